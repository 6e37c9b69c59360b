#pragma once

// ChildProcess: starts a built tool in the background (stdout and stderr to a log
// file) so a test can watch its files and kill it for real, as a crash or an
// out-of-memory killer would.

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace qsim::test {

class ChildProcess {
 public:
  /// Runs `program` with `args`; its output goes to `log_path`.
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log_path) {
    std::vector<std::string> argv_storage{program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // In the child only async-signal-safe calls until exec.
      const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log < 0 || ::dup2(log, STDOUT_FILENO) < 0 || ::dup2(log, STDERR_FILENO) < 0) ::_exit(126);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (running()) kill_now();
  }

  bool started() const { return pid_ > 0; }
  bool running() const { return pid_ > 0 && !reaped_; }

  /// Polls `condition` every millisecond until it holds (true) or the child exits
  /// or `timeout` passes (false).
  bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      if (try_reap()) return condition();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  /// SIGKILL, then waits; returns true when the child died of that signal (it was
  /// still running), false when it had already exited by itself.
  bool kill_now() {
    if (!running()) return false;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    status_ = status;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }

 private:
  bool try_reap() {
    if (reaped_) return true;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return reaped_;
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace qsim::test
