// SPDX-License-Identifier: Apache-2.0
// Test helpers for running real binaries: scratch directories, child processes with their
// output in files, and whole-file reads.

#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace sluice::test {

// Reads a whole text file; empty if it cannot be read.
std::string ReadText(const std::string& path);

// A scratch directory under $TMPDIR, removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process whose stdout and stderr go to files. Killed (SIGKILL) when destroyed if
// it is still running.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& out_path,
        const std::string& err_path);
  ~Child();

  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }

  void Signal(int signal_number);

  // The exit status (128 + signal if killed), or -1 if it still runs after `timeout`.
  int Wait(std::chrono::milliseconds timeout);

  std::string Out() const { return ReadText(out_path_); }

  std::string Err() const { return ReadText(err_path_); }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string out_path_;
  std::string err_path_;
};

// Runs a command to completion (at most 60 s) with its output in `dir`/`name`.out and
// .err, and returns its exit status.
int RunCommand(const std::vector<std::string>& argv, const TempDir& dir, const std::string& name,
               std::string* out = nullptr, std::string* err = nullptr);

}  // namespace sluice::test
