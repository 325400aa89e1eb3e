// The pipeline of a transform job (transform_job_execution_internal.h): ordered read-ahead,
// batches sent over every instance's slots, outputs assembled and written in input order.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>

#include "base/status.h"
#include "fmt/format.h"
#include "hosting/instance_client.h"
#include "jobs/transform_job_data.h"
#include "jobs/transform_job_execution_internal.h"

namespace mercato::jobs::transform::internal {
absl::Status Execution::Named(size_t object, const absl::Status& s) const {
  const InputObject& obj = objects_[object];
  return absl::Status(s.code(), fmt::format("Failed to transform {}: {}",
                                            S3Url(obj.bucket, obj.key), std::string(s.message())));
}

void Execution::ReadLoop() {
  // Objects in memory at once: one per request slot (each holds at most one batch), the ones
  // being written and the ones read ahead, so memory stays bounded however many there are.
  while (true) {
    size_t i = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!abort_.triggered() && !stop_reading_ && next_read_ < objects_.size() &&
             (live_ >= slots_ + 2 || sending_.size() >= 2)) {
        cv_.wait_for(lock, kWakeUp);
      }
      if (abort_.triggered() || stop_reading_ || next_read_ >= objects_.size()) break;
      i = next_read_++;
      ++live_;
    }
    auto work = Prepare(i);
    if (!work.ok()) {
      if (abort_.triggered()) break;  // what failed then is not the job's failure
      std::unique_lock<std::mutex> lock(mu_);
      if (running_) {
        lock.unlock();
        Fail(Named(i, work.status()));
      } else if (read_error_.ok()) {
        // Read while the instances start: their failure, if any, is the job's (as when
        // objects were read only once they were up), so this one waits for them.
        read_error_ = Named(i, work.status());
      }
      break;
    }
    {
      // Objects go out in input order whichever reader finishes first, so that with one slot
      // the first failing object is the first one that fails.
      std::lock_guard<std::mutex> lock(mu_);
      read_[i] = std::move(*work);
      for (auto it = read_.begin(); it != read_.end() && it->first == next_queued_;
           it = read_.erase(it), ++next_queued_) {
        (it->second->batches.empty() ? answered_ : sending_).push_back(std::move(it->second));
      }
    }
    cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++readers_done_;
  }
  cv_.notify_all();
}

absl::StatusOr<std::shared_ptr<Execution::Work>> Execution::Prepare(size_t index) {
  const InputObject& obj = objects_[index];
  const uint64_t max = ctx_.options.max_object_bytes;
  auto work = std::make_shared<Work>();
  work->object = index;
  // The records are views into work->data, so it is in place before they are cut.
  ASSIGN_OR_RETURN(work->data, ctx_.objects.Read(job_.account, obj.bucket, obj.key, max));
  if (spec_.gzip) {
    ASSIGN_OR_RETURN(work->data, Gunzip(work->data, max));
  }
  ASSIGN_OR_RETURN(auto views, SplitRecords(work->data, spec_.split));
  ASSIGN_OR_RETURN(auto in_filter, JsonPathFilter::Parse(spec_.input_filter));
  const uint64_t max_payload = static_cast<uint64_t>(batching_.max_payload_mb) << 20;
  if (in_filter.identity()) {
    // No filter: a batch is the object's own bytes where they already read as the request
    // body (Line records with "\n" endings, frames), else a copy of its records.
    ASSIGN_OR_RETURN(work->batches,
                     MakeBatches(views, spec_.split, batching_.strategy, max_payload, work->data));
  } else {
    const RecordFormat in_format = FormatForContentType(spec_.content_type);
    std::vector<std::string> records;
    records.reserve(views.size());
    for (size_t i = 0; i < views.size(); ++i) {
      auto r = in_filter.Apply(views[i], in_format);
      if (!r.ok()) {
        return absl::InvalidArgumentError(fmt::format("InputFilter {} on record {}: {}",
                                                      spec_.input_filter, i + 1,
                                                      std::string(r.status().message())));
      }
      records.push_back(std::move(*r));
    }
    ASSIGN_OR_RETURN(work->batches,
                     MakeBatches(records, spec_.split, batching_.strategy, max_payload));
  }
  if (spec_.join_input) work->originals = std::move(views);
  // Unfiltered batches may be views into the object; filtered ones own their bytes.
  if (!spec_.join_input && !in_filter.identity()) work->data = std::string();
  work->responses.resize(work->batches.size());
  return work;
}

void Execution::SlotLoop(Instance& inst, size_t slot) {
  while (true) {
    std::shared_ptr<Work> work;
    size_t b = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // The least busy instance takes the next batch, so that the instances share the work
      // evenly rather than by which slot wakes first.
      auto my_turn = [&] {
        for (const auto& other : instances_) {
          if (other->in_flight < inst.in_flight) return false;
        }
        return true;
      };
      while (!abort_.triggered() && !(readers_done_ == kReaders && sending_.empty()) &&
             (sending_.empty() || !my_turn())) {
        cv_.wait_for(lock, kWakeUp);
      }
      if (abort_.triggered() || sending_.empty()) return;
      ++inst.in_flight;
      work = sending_.front();
      b = work->next_batch++;
      if (work->next_batch == work->batches.size()) sending_.pop_front();
    }
    cv_.notify_all();  // the reader may read ahead again
    auto r = Invoke(inst, slot, work->batches[b].bytes());
    if (!r.ok()) {
      Fail(Named(work->object, r.status()));
      return;
    }
    work->batches[b].payload = std::string();  // sent; only this slot touches it
    {
      std::lock_guard<std::mutex> lock(mu_);
      --inst.in_flight;
      if (b == 0) work->content_type = r->Header("Content-Type");
      work->responses[b] = std::move(r->body);
      if (++work->answered == work->batches.size()) answered_.push_back(std::move(work));
    }
    cv_.notify_all();
  }
}

void Execution::WriteLoop() {
  size_t written = 0;
  while (written < objects_.size()) {
    std::shared_ptr<Work> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!abort_.triggered() && answered_.empty()) cv_.wait_for(lock, kWakeUp);
      if (abort_.triggered()) return;
      work = std::move(answered_.front());
      answered_.pop_front();
    }
    absl::Status s = Finish(*work);
    if (!s.ok()) {
      Fail(Named(work->object, s));
      return;
    }
    ++written;
    work.reset();
    {
      std::lock_guard<std::mutex> lock(mu_);
      --live_;
    }
    cv_.notify_all();
  }
}

absl::Status Execution::Finish(Work& work) {
  const InputObject& obj = objects_[work.object];
  ASSIGN_OR_RETURN(std::string out,
                   Assemble(work.batches, work.responses, work.originals, work.content_type));
  work.responses.clear();
  std::string out_type = !spec_.accept.empty() ? spec_.accept : work.content_type;
  if (out_type.empty()) out_type = "application/octet-stream";
  auto written = ctx_.objects.Write(job_.account, obj.out_bucket, obj.out_key, out_type, out);
  if (!written.ok()) {
    return absl::Status(written.code(),
                        fmt::format("cannot write {}: {}", S3Url(obj.out_bucket, obj.out_key),
                                    std::string(written.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<hosting::InstanceResponse> Execution::Invoke(Instance& inst, size_t slot,
                                                            std::string_view payload) {
  int& fd = inst.fds[slot];
  http::Headers headers;
  if (!spec_.content_type.empty()) headers.emplace_back("Content-Type", spec_.content_type);
  if (!spec_.accept.empty()) headers.emplace_back("Accept", spec_.accept);
  const int timeout = spec_.invocations_timeout_seconds;
  absl::Status last;
  for (int attempt = 0; attempt <= spec_.invocations_max_retries; ++attempt) {
    if (attempt > 0 && abort_.WaitFor(ctx_.options.retry_backoff)) {
      return absl::CancelledError("stopped");
    }
    if (abort_.triggered()) return absl::CancelledError("stopped");
    // A pooled connection the container has closed fails at once; such a failure gets one
    // free retry on a fresh connection.
    for (int fresh = 0; fresh < 2; ++fresh) {
      bool reused = fd >= 0;
      if (fd < 0) {
        auto d = ctx_.runtime.Dial(inst.id, ctx_.options.container_port, absl::Seconds(2));
        if (!d.ok()) {
          last = absl::UnavailableError(fmt::format("cannot connect to the container: {}",
                                                    std::string(d.status().message())));
          break;
        }
        fd = *d;
        // Head and body go out in two writes; without this, Nagle's algorithm and delayed
        // ACKs add tens of milliseconds to every small request.
        int one = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      }
      auto r = hosting::RoundTrip(fd, "POST", "/invocations", headers, payload,
                                  std::chrono::steady_clock::now() + std::chrono::seconds(timeout),
                                  ctx_.options.max_response_bytes);
      if (!r.ok()) {
        ::close(fd);
        fd = -1;
        last = absl::IsDeadlineExceeded(r.status())
                   ? absl::DeadlineExceededError(fmt::format(
                         "the container did not answer POST /invocations within {} seconds "
                         "(InvocationsTimeoutInSeconds)",
                         timeout))
                   : absl::UnavailableError(fmt::format("POST /invocations failed: {}",
                                                        std::string(r.status().message())));
        if (reused && absl::IsUnavailable(r.status())) continue;
        break;
      }
      if (!r->keep_alive) {
        ::close(fd);
        fd = -1;
      }
      if (r->status / 100 == 2) return r;
      std::string body = r->body.substr(0, 1000);
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
      last = absl::FailedPreconditionError(
          fmt::format("the container answered {} to POST /invocations: {}", r->status, body));
      if (r->status < 500 && r->status != 429) return last;  // the input is at fault
      break;
    }
  }
  return last;
}

absl::StatusOr<std::string> Execution::Assemble(const std::vector<Batch>& batches,
                                                const std::vector<std::string>& responses,
                                                const std::vector<std::string_view>& originals,
                                                const std::string& content_type) {
  std::string out;
  ASSIGN_OR_RETURN(auto out_filter, JsonPathFilter::Parse(spec_.output_filter));
  if (!spec_.join_input && out_filter.identity()) {
    for (const std::string& r : responses) AppendAssembled(&out, r, spec_.assemble);
    return out;
  }
  const RecordFormat in_format = FormatForContentType(spec_.content_type);
  const RecordFormat out_format =
      spec_.join_input ? in_format
                       : FormatForContentType(!spec_.accept.empty() ? spec_.accept : content_type);
  for (size_t b = 0; b < batches.size(); ++b) {
    ASSIGN_OR_RETURN(auto outs, SplitOutputRecords(responses[b], batches[b].count));
    for (size_t k = 0; k < outs.size(); ++k) {
      std::string rec = std::move(outs[k]);
      if (spec_.join_input) {
        ASSIGN_OR_RETURN(rec, JoinRecord(originals[batches[b].first + k], rec, in_format));
      }
      auto filtered = out_filter.Apply(rec, out_format);
      if (!filtered.ok()) {
        return absl::InvalidArgumentError(fmt::format("OutputFilter {} on record {}: {}",
                                                      spec_.output_filter, batches[b].first + k + 1,
                                                      std::string(filtered.status().message())));
      }
      AppendAssembled(&out, *filtered, spec_.assemble);
    }
  }
  return out;
}

}  // namespace mercato::jobs::transform::internal
