// parafit — fast parallel nonlinear regression from the command line: the whole program (run_main),
// shared by `parafit` (main.cpp) and its test build (tests/cli/testing_main.cpp).
// Exit codes: 0 success, 1 failed fit or bad data, 2 bad usage.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "option_flags.h"
#include "parse_messages.h"
#include "rank_timeout.h"
#include "run_main.h"
#include "simd/target.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The usage line of the chosen subcommand (or of parafit itself), for usage errors.
std::string usage_of(const CLI::App& app) {
  const CLI::App* shown = &app;
  for (const CLI::App* sub : app.get_subcommands()) shown = sub;
  std::string help = shown->help();
  const std::size_t usage = help.find("Usage:");
  const std::size_t end = help.find('\n', usage);
  std::string line = usage == std::string::npos ? "" : help.substr(usage, end - usage);
  std::string name = shown == &app ? "parafit" : "parafit " + shown->get_name();
  // A subcommand's own help starts "Usage: fit [OPTIONS]": the user types "parafit fit".
  const std::string own = "Usage: " + shown->get_name();
  if (shown != &app && line.starts_with(own)) line = "Usage: " + name + line.substr(own.size());
  return fmt::format("{}\nRun '{} --help' for more.", line, name);
}

// A message fit for the terminal: every line with its control and non-UTF-8 bytes escaped, so
// bytes that came from a file or the command line are shown, never sent (parafit/error.h).
std::string shown(std::string_view message) {
  std::string out;
  std::size_t at = 0;
  for (;;) {
    const std::size_t nl = message.find('\n', at);
    out += parafit::printable(message.substr(at, nl == std::string_view::npos ? nl : nl - at));
    if (nl == std::string_view::npos) return out;
    out += '\n';
    at = nl + 1;
  }
}

// --version: the program's version and the SIMD target its kernels run on here.
std::string version_text() {
  std::string available;
  for (const parafit::simd::TargetInfo& t : parafit::simd::available_targets())
    available += (available.empty() ? "" : ", ") + t.name;
  const parafit::simd::TargetInfo active = parafit::simd::active_target();
  return fmt::format("parafit 0.1.0\nSIMD target: {} — {}\navailable here: {} (PARAFIT_SIMD_TARGET=NAME forces one)",
                     active.name, active.description, available);
}

}  // namespace

namespace parafit::cli {

int run_main(int argc, char** argv) {
  parafit::cli::ParallelRun parallel(argc, argv);
  // Under mpirun every rank parses the same command line; only rank 0 prints what it says.
  const bool root = parallel.is_root();
  CLI::App app{"parafit: fast parallel nonlinear regression (Levenberg-Marquardt on all cores)",
               "parafit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return version_text(); });
  std::vector<std::unique_ptr<parafit::cli::Command>> commands;
  commands.push_back(parafit::cli::add_fit_command(app));
  commands.push_back(parafit::cli::add_batch_command(app));
  commands.push_back(parafit::cli::add_train_command(app));
  commands.push_back(parafit::cli::add_predict_command(app));
  commands.push_back(parafit::cli::add_gen_command(app));
  commands.push_back(parafit::cli::add_models_command(app));
  commands.push_back(parafit::cli::add_convert_command(app));
  add_number_checks(app);
  add_help_footers(app);

  // Errors that every rank meets alike are reported by rank 0 alone. The others wait until it has
  // (a barrier) before they exit: mpirun ends the whole job as soon as one rank exits with an
  // error, and rank 0's message would be lost if it came later. Only while every rank is here:
  // under the commands rank 0 runs alone, the others have already left.
  bool every_rank_here = true;
  const auto after_report = [&] {
    if (!every_rank_here || parallel.comm().size() == 1) return;
    try {
      parallel.comm().barrier();
    } catch (const std::exception&) {
    }
  };

  // The SIMD target, if the environment forces one: before anything runs a kernel.
  try {
    parafit::simd::apply_target_from_environment();
  } catch (const parafit::Error& e) {
    if (root) fmt::print(stderr, "parafit: error: {}\n", shown(e.what()));
    after_report();
    return kExitUsage;
  }

  if (const std::string unknown = unknown_subcommand(app, argc, argv); !unknown.empty()) {
    if (root) fmt::print(stderr, "parafit: error: {}\n{}\n", shown(unknown), usage_of(app));
    after_report();
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root ? app.exit(e) : 0;
  } catch (const CLI::CallForAllHelp& e) {
    return root ? app.exit(e) : 0;
  } catch (const CLI::CallForVersion& e) {
    return root ? app.exit(e) : 0;
  } catch (const CLI::ParseError& e) {
    if (root) fmt::print(stderr, "parafit: error: {}\n{}\n", shown(parse_error_message(e, app, argc, argv)), usage_of(app));
    after_report();
    return kExitUsage;
  }

  try {
    for (auto& cmd : commands) {
      if (!app.got_subcommand(cmd->app)) continue;
      if (!root && !cmd->runs_on_every_rank()) return 0;
      every_rank_here = cmd->runs_on_every_rank();
      cmd->parallel = &parallel;
      parallel.set_rank_timeout(rank_timeout(cmd->rank_timeout));
      return cmd->run();
    }
  } catch (const parafit::cli::UsageError& e) {
    if (root) fmt::print(stderr, "parafit: error: {}\n{}\n", shown(e.what()), usage_of(app));
    after_report();
    return kExitUsage;
  } catch (const parafit::AgreedError& e) {
    // Every rank throws this same error; rank 0 reports it once.
    if (root && e.is_usage()) fmt::print(stderr, "parafit: error: {}\n{}\n", shown(message_with_flags(e)), usage_of(app));
    else if (root) fmt::print(stderr, "parafit: error: {}\n", shown(message_with_flags(e)));
    after_report();
    return e.is_usage() ? kExitUsage : kExitFailure;
  } catch (const parafit::TimedOut& e) {
    // A rank does not answer: the others could not finish together (MPI_Finalize waits for every
    // rank), so this one, the only one to report it, ends the job.
    fmt::print(stderr, "parafit: error: {} (--rank-timeout or PARAFIT_RANK_TIMEOUT set how long ranks wait)\n",
               shown(e.what()));
    parallel.abort_job(kExitFailure);
    return kExitFailure;
  } catch (const parafit::RankFailed& e) {
    // Another rank failed and says why itself: this one only stops. After a timeout it stops
    // without MPI_Finalize, as the rank that timed out does: Finalize waits for every rank, the
    // hung one too, and Open MPI 4.1's mpirun, ending the job while a rank waits there, can
    // deadlock in its own PMIx_server_finalize (seen in about 1 run in 10 on a loaded machine).
    if (e.after_timeout()) parallel.abort_job(kExitFailure);
    return kExitFailure;
  } catch (const parafit::Error& e) {
    const std::string message = message_with_flags(e);
    fmt::print(stderr, "parafit: error: {}{}\n",
               parallel.comm().size() > 1 ? fmt::format("rank {}: ", parallel.comm().rank()) : "", shown(message));
    // An option's value that the library refused (an unknown model, a start for no parameter).
    if (e.is_usage()) fmt::print(stderr, "{}\n", usage_of(app));
    // Then the other ranks stop at their next call instead of waiting for this one (not before:
    // mpirun ends the job when the first of them exits, perhaps before this rank has spoken).
    if (parallel.comm().size() > 1) parallel.comm().abort(message);
    if (e.is_usage()) return kExitUsage;
    return kExitFailure;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "parafit: error: out of memory\n");
    return kExitFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "parafit: internal error: {}\n", shown(e.what()));
    if (parallel.comm().size() > 1) parallel.comm().abort(std::string("internal error: ") + e.what());
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace parafit::cli
