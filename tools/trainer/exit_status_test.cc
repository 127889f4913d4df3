// The exit-status rule: bad input 2, a peer's failure 3, anything else 1.
#include "tools/trainer/exit_status.h"

#include "gtest/gtest.h"

namespace ald {
namespace {

TEST(ExitStatusTest, EachClass) {
  EXPECT_EQ(ExitStatusFor(absl::OkStatus()), kExitDone);
  for (const absl::Status& bad_input :
       {absl::InvalidArgumentError("--lr"), absl::NotFoundError("file"),
        absl::DataLossError("truncated"), absl::OutOfRangeError("file ends"),
        absl::PermissionDeniedError("file"), absl::UnimplementedError("flags")}) {
    EXPECT_EQ(ExitStatusFor(bad_input), kExitBadInput) << bad_input;
  }
  EXPECT_EQ(ExitStatusFor(absl::UnavailableError("rank 2")), kExitPeerFailure);
  EXPECT_EQ(ExitStatusFor(absl::DeadlineExceededError("recv")), kExitPeerFailure);
  EXPECT_EQ(ExitStatusFor(absl::InternalError("bug")), kExitInternalError);
  EXPECT_EQ(ExitStatusFor(absl::ResourceExhaustedError("disk")), kExitInternalError);
}

}  // namespace
}  // namespace ald
