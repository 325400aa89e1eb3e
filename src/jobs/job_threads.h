// Helpers shared by the job runners (training, transform), which each keep one thread per
// running job in a map of job records with `finished` and `thread` members. Not
// thread-safe: callers hold their runner's lock.
#pragma once

namespace mercato::jobs {

// Joins and forgets the records of jobs whose thread has finished.
template <typename JobMap>
void ReapFinishedJobs(JobMap& jobs) {
  for (auto it = jobs.begin(); it != jobs.end();) {
    if (it->second->finished) {
      if (it->second->thread.joinable()) it->second->thread.join();
      it = jobs.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace mercato::jobs
