// SPDX-License-Identifier: Apache-2.0

#include "testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace sluice::test {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/sluice-it-XXXXXX";
  path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    (void)std::system(("rm -rf '" + path_ + "'").c_str());
  }
}

Child::Child(const std::vector<std::string>& argv, const std::string& out_path,
             const std::string& err_path)
    : out_path_(out_path), err_path_(err_path) {
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The child runs in the directory of its output files (a test's TempDir), so that
  // defaults relative to the working directory (./data) stay inside the test.
  const std::string dir = out_path.substr(0, out_path.rfind('/') == std::string::npos
                                                 ? 0
                                                 : out_path.rfind('/'));
  if (!dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  }
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) {
    pid_ = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
}

Child::~Child() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    (void)Wait(std::chrono::seconds(5));
  }
}

void Child::Signal(int signal_number) {
  ::kill(pid_, signal_number);
}

int Child::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int RunCommand(const std::vector<std::string>& argv, const TempDir& dir, const std::string& name,
               std::string* out, std::string* err) {
  Child child(argv, dir.File(name + ".out"), dir.File(name + ".err"));
  if (!child.started()) {
    return -1;
  }
  const int status = child.Wait(std::chrono::seconds(60));
  if (out != nullptr) {
    *out = child.Out();
  }
  if (err != nullptr) {
    *err = child.Err();
  }
  return status;
}

}  // namespace sluice::test
