// mercato-xgboost: Mercato's built-in XGBoost algorithm container.
//
//   mercato-xgboost [--prefix DIR] train   train per the SageMaker training contract
//   mercato-xgboost [--prefix DIR] serve   serve per the SageMaker inference contract
//
// DIR (default $MERCATO_ML_PREFIX, else /opt/ml) stands for /opt/ml so the binary can run
// outside a sandbox. Environment: SAGEMAKER_BIND_TO_PORT (default 8080, 0 = any free port,
// printed on stdout), MERCATO_BIND_HOST (default 0.0.0.0), SAGEMAKER_MODEL_SERVER_WORKERS,
// SAGEMAKER_MAX_PAYLOAD_IN_MB.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "ml_paths.h"
#include "predictor.h"
#include "server.h"
#include "trainer.h"

namespace mercato::xgboost {
namespace {

int Usage() {
  std::cerr << "usage: mercato-xgboost [--prefix DIR] train|serve\n";
  return 2;
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n >= 0 && n <= 65535) ? static_cast<int>(n) : fallback;
}

// SageMaker takes the first 1024 characters of this file as the job's FailureReason.
void WriteFailure(const MlPaths& paths, const std::string& message) {
  std::error_code ec;
  std::filesystem::create_directories(paths.output_dir, ec);
  std::ofstream out(paths.FailureFile(), std::ios::trunc);
  out << message;
}

int Train(const MlPaths& paths) {
  absl::Status status = RunTraining(paths, std::cout, std::cerr);
  if (status.ok()) return 0;
  std::string message(status.message());
  std::cerr << "Training failed: " << message << std::endl;
  WriteFailure(paths, message);
  return 1;
}

void OnStopSignal(int) { Server::RequestStop(); }

int Serve(const MlPaths& paths) {
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  auto predictor = Predictor::Load(paths.model_dir);
  if (!predictor.ok()) {
    std::cerr << "Cannot load model: " << predictor.status().message() << std::endl;
    return 1;
  }
  ServerOptions options;
  const char* host = std::getenv("MERCATO_BIND_HOST");
  if (host != nullptr && *host != '\0') options.host = host;
  options.port = static_cast<uint16_t>(EnvInt("SAGEMAKER_BIND_TO_PORT", 8080));
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  options.workers = std::max(1, EnvInt("SAGEMAKER_MODEL_SERVER_WORKERS", std::clamp(cores, 2, 16)));
  options.max_body_bytes =
      static_cast<size_t>(std::max(6, EnvInt("SAGEMAKER_MAX_PAYLOAD_IN_MB", 6))) << 20;
  auto server = Server::Create(options, **predictor);
  if (!server.ok()) {
    std::cerr << server.status().message() << std::endl;
    return 1;
  }
  std::cout << "Loaded model " << (*predictor)->model_file().string() << " ("
            << (*predictor)->num_features() << " features); listening on " << options.host << ":"
            << (*server)->port() << " with " << options.workers << " workers" << std::endl;
  absl::Status status = (*server)->Run();
  std::cout << "Stopped" << std::endl;
  return status.ok() ? 0 : 1;
}

}  // namespace
}  // namespace mercato::xgboost

int main(int argc, char** argv) {
  using namespace mercato::xgboost;
  std::optional<std::string> prefix;
  std::optional<std::string> command;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--prefix" && i + 1 < argc) {
      prefix = argv[++i];
    } else if (arg.rfind("--prefix=", 0) == 0) {
      prefix = arg.substr(9);
    } else if (!command && (arg == "train" || arg == "serve")) {
      command = arg;
    } else {
      return Usage();
    }
  }
  if (!command) return Usage();
  MlPaths paths = MlPaths::FromEnvironment(prefix);
  return *command == "train" ? Train(paths) : Serve(paths);
}
