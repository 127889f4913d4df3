// A planted data race, the canary of the ThreadSanitizer configuration: one thread writes a
// counter under an absl::Mutex, the other without it. tsan_canary_test.sh expects TSan to report
// it, which proves that --config=tsan instruments our code and that neither the suppressions nor
// the lock annotations of //third_party/tsan (linked through @absl) hide a real race.
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {
absl::Mutex counter_mutex;
volatile int counter = 0;  // volatile: every increment is a real load and store
}  // namespace

int main() {
  std::thread locked_writer([] {
    for (int i = 0; i < 1000; ++i) {
      absl::MutexLock lock(&counter_mutex);
      counter = counter + 1;
    }
  });
  for (int i = 0; i < 1000; ++i) counter = counter + 1;  // the race: no lock on this side
  locked_writer.join();
  return 0;
}
