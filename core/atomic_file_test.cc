#include "core/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "core/testing/temp_files.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

std::string TestDir(const std::string& name) { return testing::TestDir("atomic_file_", name); }
using testing::FileContents;
using testing::FileExists;

TEST(AtomicFileTest, ReplacesTheContents) {
  const std::string path = TestDir("replace") + "/file";
  ASSERT_TRUE(WriteStringAtomically(path, "first").ok());
  ASSERT_TRUE(WriteStringAtomically(path, "second, longer").ok());
  EXPECT_EQ(FileContents(path), "second, longer");
  EXPECT_FALSE(FileExists(TempPathFor(path)));
}

TEST(AtomicFileTest, TempPathCarriesThePid) {
  EXPECT_EQ(TempPathFor("/a/b"), absl::StrCat("/a/b.tmp-", ::getpid()));
}

// A write that fails half-way (a full disk, say) removes the temporary and keeps the old file.
TEST(AtomicFileTest, FailureInTheMiddleKeepsTheOldFile) {
  const std::string path = TestDir("fail_middle") + "/file";
  ASSERT_TRUE(WriteStringAtomically(path, "old contents").ok());
  absl::Status status = WriteFileAtomically(path, [](UniqueFd& out) {
    absl::Status written = out.WriteAll("new, half", 9);
    if (!written.ok()) return written;
    return absl::ResourceExhaustedError("injected: no space left");
  });
  EXPECT_THAT(status.message(), HasSubstr("injected"));
  EXPECT_EQ(FileContents(path), "old contents");
  EXPECT_FALSE(FileExists(TempPathFor(path)));
}

// A temporary that cannot be created (here a directory squats on its name) fails the write
// before anything is touched; even as root this cannot be overridden.
TEST(AtomicFileTest, UncreatableTemporaryKeepsTheOldFile) {
  const std::string path = TestDir("no_temp") + "/file";
  ASSERT_TRUE(WriteStringAtomically(path, "old contents").ok());
  ASSERT_EQ(::mkdir(TempPathFor(path).c_str(), 0755), 0);
  absl::Status status = WriteStringAtomically(path, "new contents");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(TempPathFor(path)));
  EXPECT_EQ(FileContents(path), "old contents");
  ::rmdir(TempPathFor(path).c_str());
}

// A rename that fails (the target is a non-empty directory) removes the temporary.
TEST(AtomicFileTest, FailedRenameRemovesTheTemporary) {
  const std::string path = TestDir("bad_rename") + "/target";
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  ASSERT_TRUE(WriteStringAtomically(path + "/inside", "x").ok());
  absl::Status status = WriteStringAtomically(path, "new contents");
  EXPECT_THAT(status.message(), HasSubstr("cannot rename"));
  EXPECT_FALSE(FileExists(TempPathFor(path)));
  EXPECT_EQ(FileContents(path + "/inside"), "x");
}

// A kill mid-write leaves "<path>.tmp-<pid>"; a later start removes it, but never the temporary
// of a writer that is still running (this process) or a file that only looks similar.
TEST(AtomicFileTest, StaleTemporariesOfDeadProcessesAreRemoved) {
  const std::string dir = TestDir("stale");
  ASSERT_TRUE(WriteStringAtomically(dir + "/keep", "x").ok());
  // pid_max is at most 2^22 on Linux: this pid cannot be running.
  const std::string dead = dir + "/checkpoint-5.safetensors.tmp-99999999";
  const std::string live = TempPathFor(dir + "/latest");
  ASSERT_TRUE(WriteStringAtomically(dead, "partial").ok());
  ASSERT_TRUE(WriteStringAtomically(live, "in progress").ok());
  ASSERT_TRUE(WriteStringAtomically(dir + "/notes.tmp-x", "not ours").ok());
  absl::StatusOr<int> removed = RemoveStaleTempFiles(dir);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(FileExists(dead));
  EXPECT_TRUE(FileExists(live));
  EXPECT_TRUE(FileExists(dir + "/notes.tmp-x"));
  EXPECT_TRUE(FileExists(dir + "/keep"));
  EXPECT_EQ(*RemoveStaleTempFiles(dir + "/missing"), 0);
}

TEST(AtomicFileTest, MissingDirectoryIsNotFound) {
  absl::Status status = WriteStringAtomically(TestDir("missing") + "/no/such/file", "x");
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
}

}  // namespace
}  // namespace ald
