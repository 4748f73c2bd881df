// Usage errors and what the command line says about them (issue 9, defects 5, 6, 7 and 13):
// exit codes, the flag named, suggestions, number checks, --help, devices as --data.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string decay_csv(const std::string& dir) {
  const std::string path = dir + "/decay.csv";
  const auto r = run_parafit("gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows 300 --x-range 0:5 --noise 0.05 "
                             "--out '" + path + "'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return path;
}

struct Case {
  std::string args, expect;
};

void expect_usage(const std::vector<Case>& cases, const std::string& dir) {
  for (const auto& c : cases) {
    const auto r = run_parafit(c.args, dir);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.expect)) << c.args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, "Usage: parafit ")) << c.args << "\n" << r.err;
  }
}

// Defect 6: options the library refuses are usage errors (exit 2) naming the flag.
TEST(CliUsage, OptionValuesTheLibraryRefusesExitTwo) {
  const auto dir = scratch_dir();
  const std::string fit = "fit --data '" + decay_csv(dir) + "' --model ";
  const std::string train = "train --data '" + dir + "/decay.csv' --epochs 1 --model ";
  expect_usage(
      {
          {fit + "exp-decay --start z=1", "--start: model 'exp-decay' has no parameter 'z'"},
          {fit + "exp-decay --start a=1 --fix a=2", "parameter 'a' is both fixed (--fix) and started (--start)"},
          {fit + "exp-decay --bounds z=0:1", "--bounds: model 'exp-decay' has no parameter 'z'"},
          {fit + "exp-decay --start b=5 --bounds b=0:1",
           "--start: start value of parameter 'b' is 5, outside its bounds [0, 1] (--bounds)"},
          {fit + "exp-decay --fix b=5 --bounds b=0:1",
           "--fix: fixed value of parameter 'b' is 5, outside its bounds [0, 1] (--bounds)"},
          {fit + "nope", "--model: unknown model 'nope'"},
          {fit + "poly", "--model: model 'poly' needs a degree"},
          {fit + "'b1*(1-exq(-b2*x))' --start b1=1,b2=1", "unknown function 'exq' (did you mean 'exp'?)"},
          {fit + "'b1*(1-exp(-b2*x))' --start b1=1", "give --start for b2"},
          {train + "mlp:0", "--model: 'mlp:0': bad layer width '0'"},
          {train + "nope", "--model: unknown model 'nope'"},
          {train + "exp-decay --start z=1", "--start: model 'exp-decay' has no parameter 'z'"},
          {"gen --model nope --params a=1 --rows 3 --out -", "--model: unknown model 'nope'"},
      },
      dir);
  // Bad data stays 1.
  write_file(dir + "/bad.csv", "x,y\n1,2\n2,abc\n");
  EXPECT_EQ(run_parafit("fit --data '" + dir + "/bad.csv' --model exp-decay", dir).code, 1);
}

#ifdef PARAFIT_MPIEXEC
// The kind of an error survives agreement between ranks: a usage error on every rank exits 2, once.
TEST(CliUsageMpi, UsageErrorsExitTwo) {
  const auto dir = scratch_dir();
  const auto r = run_mpi(2, "fit --data '" + decay_csv(dir) + "' --model exp-decay --start z=1", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "--start: model 'exp-decay' has no parameter 'z'")) << r.err;
  EXPECT_TRUE(contains(r.err, "Usage: parafit fit")) << r.err;
}
#endif

// Defect 7: flags the chosen model or optimizer would ignore are refused.
TEST(CliUsage, FlagsThatWouldBeIgnoredAreRefused) {
  const auto dir = scratch_dir();
  const std::string train = "train --data '" + decay_csv(dir) + "' --epochs 1 --model ";
  expect_usage(
      {
          {train + "exp-decay --optimizer adam --momentum 0.9", "--momentum is for --optimizer sgd; --optimizer adam"},
          {train + "exp-decay --optimizer adamw --nesterov", "--nesterov is for --optimizer sgd"},
          {train + "exp-decay --activation relu", "--activation is for MLP models"},
          {train + "mlp:4 --start a=1", "--start is for built-in and formula models"},
          {train + "exp-decay --optimizer lbfgs --warmup 10", "--warmup is for the mini-batch optimizers"},
      },
      dir);
  // A warm-up longer than the run is allowed, with one warning.
  const auto r = run_parafit(train + "exp-decay --optimizer adam --batch 100 --warmup 1000", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "parafit: warning: --warmup 1000 is longer than the whole run (3 steps: 1 epochs x 3)"))
      << r.err;
  const auto quiet = run_parafit(train + "exp-decay --optimizer adam --batch 100 --warmup 2", dir);
  EXPECT_FALSE(contains(quiet.err, "warning")) << quiet.err;
}

// Defect 13: usage lines, suggestions, number checks, range display, --help.
TEST(CliUsage, MessagesAboutTheCommandLine) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir);
  expect_usage(
      {
          {"fti", "unknown command 'fti' (did you mean 'fit'?)"},
          {"fit --data '" + data + "' --model exp-decay --thread 2", "unknown option '--thread'; did you mean '--threads'?"},
          {"fit --data '" + data + "' --model exp-decay --threads abc", "--threads: 'abc' is not an integer"},
          {"fit --data '" + data + "' --model exp-decay --max-iterations 1e3", "--max-iterations: '1e3' is not an integer"},
          {"fit --data '" + data + "' --model exp-decay --conf-level high", "--conf-level: 'high' is not a number"},
          {"train --data '" + data + "' --model mlp:4 --epochs 1.5", "--epochs: '1.5' is not an integer"},
          {"train --data '" + data + "' --model mlp:4 --lr fast", "--lr: 'fast' is not a number"},
          {"train --data '" + data + "' --model mlp:4 --batch 99999999999999999999999",
           "--batch: 99999999999999999999999 is too large (more than 64 bits)"},
          {"gen --model exp-decay --params a=1,b=1,c=1 --rows -3 --out -", "--rows: '-3' is not a non-negative integer"},
          {"gen --model exp-decay --params a=1,b=1,c=1 --rows 3 --noise -1 --out -", "--noise: -1 is not in [0, inf)"},
          {"fit --data '" + data + "' --model exp-decay --threads 5000", "--threads: 5000 is not in [1, 4096]"},
          {"fit --model exp-decay", "Usage: parafit fit [OPTIONS]"},
      },
      dir);
  // No number in any message runs to 300 digits.
  const auto noise = run_parafit("gen --model exp-decay --params a=1,b=1,c=1 --rows 3 --noise -1 --out -", dir);
  EXPECT_FALSE(contains(noise.err, "17976931348623157")) << noise.err;
  for (const char* cmd : {"", "fit", "batch", "train", "predict", "gen", "models", "convert"}) {
    const auto r = run_parafit(std::string(cmd) + " --help", dir);
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(contains(r.out, "Exit codes: 0 success, 1 failed fit or bad data, 2 bad usage")) << cmd << r.out;
    EXPECT_TRUE(contains(r.out, "Example:\n  parafit ")) << cmd << r.out;
    EXPECT_FALSE(contains(r.out, "17976931348623157")) << cmd << r.out;
  }
}

// Defect 5: a binary device as --data is refused at once instead of read forever; a pipe still works.
TEST(CliUsage, BinaryDevicesAreRefusedPipesAreRead) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_parafit("fit --data /dev/zero --model exp-decay", dir);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "cannot read '/dev/zero': it is a character device that gives binary data (NUL bytes)")) << r.err;
  const auto piped = run_parafit("fit --data /dev/stdin --model exp-decay < '" + data + "'", dir);
  EXPECT_EQ(piped.code, 0) << piped.err;
  // A pipe is read to its end (up to half the machine's memory).
  const int pipe = std::system(("cat '" + data + "' | '" PARAFIT_EXE "' fit --data /dev/stdin --model exp-decay >/dev/null").c_str());
  EXPECT_TRUE(WIFEXITED(pipe) && WEXITSTATUS(pipe) == 0) << pipe;
}

// Defect 8: a UTF-16 or binary --data file is named as such, its bytes escaped.
TEST(CliUsage, Utf16AndBinaryDataAreNamed) {
  const auto dir = scratch_dir();
  write_file(dir + "/u16.csv", std::string("\xff\xfex\0,\0y\0\n\0" "1\0,\0" "2\0\n\0", 18));
  const auto r = run_parafit("fit --data '" + dir + "/u16.csv' --model exp-decay", dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "looks like UTF-16")) << r.err;
  for (unsigned char c : r.err) EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << int(c) << r.err;
}

// Defect 8: no message echoes a raw control byte or a byte that is not UTF-8, whatever reader or
// flag the byte came through.
TEST(CliUsage, NoMessagePrintsRawControlBytes) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir);
  write_file(dir + "/odd.csv", "x\x01,y\xff\n1,2\n2,3\n" + std::string(100, '#') + "\n");
  write_file(dir + "/model.json", "{\"format\": \"\x01\xfe\"}");
  const std::vector<std::string> cases = {
      "fit --data '" + dir + "/odd.csv' --model exp-decay --y q",
      "fit --data '" + data + "' --model \"$(printf 'b1*x\\001')\" --start b1=1",
      "fit --data '" + data + "' --model \"$(printf 'nope\\033[31m\\377')\"",
      "fit --data '" + data + "' --model exp-decay --start \"$(printf 'z\\033=1')\"",
      "fit --data '" + data + "' --model exp-decay --threads \"$(printf '\\001')\"",
      "train --data '" + data + "' --model mlp:2 --activation \"$(printf 'x\\001')\"",
      "predict --model-file '" + dir + "/model.json' --data '" + data + "'",
  };
  for (const auto& args : cases) {
    const auto r = run_parafit(args, dir);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_FALSE(r.err.empty()) << args;
    for (unsigned char c : r.err)
      EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << args << ": byte " << int(c) << " in\n" << r.err;
  }
}

}  // namespace
}  // namespace parafit::testing
