// mercatod: parses the configuration, builds the App, serves until SIGTERM or SIGINT,
// then shuts down gracefully (in-flight requests finish).
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "base/logging.h"
#include "server/app.h"
#include "server/config.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto config = mercato::server::ParseConfig(args, mercato::server::ProcessEnvironment());
  if (!config.ok()) {
    bool help = config.status().code() == absl::StatusCode::kCancelled;
    (help ? std::cout : std::cerr) << config.status().message() << "\n";
    return help ? 0 : 2;
  }
  mercato::InitLogging(config->log_level);

  // Block the shutdown signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto app = mercato::server::App::Create(*config);
  if (!app.ok()) {
    std::cerr << "mercatod: " << app.status().message() << "\n";
    return 1;
  }
  (*app)->Start();
  std::printf("listening on %s:%u\n", config->host().c_str(), (*app)->port());
  std::printf("console and API: %s/\noperator credentials: %s\n", (*app)->url().c_str(),
              (*app)->admin_credentials_path().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received signal {}, shutting down", sig);
  (*app)->Shutdown();
  (*app)->Wait();
  spdlog::info("stopped");
  return 0;
}
