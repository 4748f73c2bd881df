// `parafit train`: output discipline, errors, save/predict, checkpoint/resume through the CLI, and
// the same weights for any number of ranks and threads under mpirun.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

using nlohmann::json;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string decay_csv(const std::string& dir, std::size_t rows = 20000) {
  const auto r = run_parafit("gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows " + std::to_string(rows) +
                                 " --x-range 0:5 --noise 0.05 --seed 4 --out '" + dir + "/d.csv'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return dir + "/d.csv";
}

// y = sin(3 x0) + x1 x2 - x3 on a deterministic grid-like sequence (no RNG needed in the test).
std::string mlp_csv(const std::string& dir, std::size_t rows = 4000) {
  std::ostringstream out;
  out.precision(17);
  out << "x0,x1,x2,x3,y\n";
  for (std::size_t i = 0; i < rows; ++i) {
    const double x0 = std::fmod(0.6180339887 * double(i), 2.0) - 1, x1 = std::fmod(0.4142135623 * double(i), 2.0) - 1;
    const double x2 = std::fmod(0.7320508075 * double(i), 2.0) - 1, x3 = std::fmod(0.2360679774 * double(i), 2.0) - 1;
    out << x0 << ',' << x1 << ',' << x2 << ',' << x3 << ',' << std::sin(3 * x0) + x1 * x2 - x3 << '\n';
  }
  write_file(dir + "/m.csv", out.str());
  return dir + "/m.csv";
}

json without_timings(json doc) {
  doc.erase("run");
  return doc;
}

TEST(CliTrain, StrataMustBePositive) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 500);
  const auto r = run_parafit("train --data '" + data + "' --model exp-decay --strata 0", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--strata")) << r.err;
}

TEST(CliTrain, HelpListsTheFlags) {
  const auto dir = scratch_dir();
  const auto r = run_parafit("train --help", dir);
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--optimizer", "--lr", "--schedule", "--batch", "--epochs", "--accum", "--val-split",
                           "--early-stop", "--seed", "--checkpoint", "--checkpoint-every", "--resume", "--precision",
                           "--activation", "--shard-optimizer", "--sync", "--average-moments", "--debug-slow-rank",
                           "--servers"})
    EXPECT_TRUE(has(r.out, flag)) << flag;
}

TEST(CliTrain, CurveModelSummaryOnStdoutProgressOnStderr) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir);
  const auto r = run_parafit("train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 4 --val-split 0.1 --json '" +
                                 dir + "/t.json'",
                             dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "Termination: completed")) << r.out;
  EXPECT_FALSE(has(r.out, "epoch 1/4"));     // progress never on stdout
  EXPECT_TRUE(has(r.err, "epoch 1/4: train MSE"));  // one line per epoch when not a terminal
  EXPECT_TRUE(has(r.err, "epoch 4/4: train MSE"));
  const json doc = json::parse(read_file(dir + "/t.json"));
  EXPECT_EQ(doc["schema"], "parafit-train/1");
  EXPECT_EQ(doc["history"].size(), 4u);
  EXPECT_NEAR(doc["parameters"]["a"].get<double>(), 2.5, 0.05);
  EXPECT_NEAR(doc["parameters"]["b"].get<double>(), 1.3, 0.05);
  EXPECT_NEAR(doc["summary"]["train_mse"].get<double>(), 0.0025, 0.0002);  // noise sd 0.05
  EXPECT_GT(doc["run"]["samples_per_s"].get<double>(), 0);
}

// On a terminal the progress is a live line (epoch, step, loss, samples/s, ETA), redrawn in place.
// `script` (util-linux, essential in Debian) gives the command a pseudo-terminal.
TEST(CliTrain, LiveProgressLineOnATerminal) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 20000);
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no 'script' command";
  const std::string inner = std::string("'") + PARAFIT_EXE + "' train --data '" + data +
                            "' --model exp-decay --epochs 2 --threads 1 >/dev/null";
  const int code = std::system(("script -qec \"" + inner + "\" '" + dir + "/tty.txt' >/dev/null 2>&1").c_str());
  ASSERT_EQ(WEXITSTATUS(code), 0);
  const std::string tty = read_file(dir + "/tty.txt");
  EXPECT_TRUE(has(tty, "\r\033[Kepoch 1/2 step 1/")) << tty;
  EXPECT_TRUE(has(tty, "samples/s  ETA")) << tty;
  EXPECT_TRUE(has(tty, "parafit: epoch 2/2: train MSE")) << tty;
}

TEST(CliTrain, BadInputIsAClearErrorWithTheRightExitCode) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 500);
  auto run = [&](const std::string& args) { return run_parafit("train --data '" + data + "' " + args, dir); };
  auto r = run("--model exp-decay --optimizer adagrad");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "unknown optimizer 'adagrad'")) << r.err;
  r = run("--model exp-decay --lr -1");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--lr")) << r.err;
  r = run("--model exp-decay --schedule cosine:2");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "cosine")) << r.err;
  r = run("--model mlp:64,x");
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(has(r.err, "bad layer width 'x'")) << r.err;
  r = run("--model exp-decay --y nope");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "nope")) << r.err;
  r = run("--model exp-decay --early-stop 2");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--early-stop needs a validation split")) << r.err;
  r = run("--model exp-decay --resume '" + dir + "/missing.ckpt'");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "cannot open checkpoint")) << r.err;
}

TEST(CliTrain, InterruptedRunResumesToTheSameResult) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 5000);
  const std::string common = "train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 3 --schedule cosine ";
  const auto whole = run_parafit(common + "--json '" + dir + "/whole.json'", dir);
  ASSERT_EQ(whole.code, 0) << whole.err;
  const std::string ckpt = dir + "/run.ckpt";
  const int code = std::system(("PARAFIT_TESTING_STOP_AFTER_STEPS=30 '" PARAFIT_TESTING_EXE "' " + common + "--checkpoint '" + ckpt +
                                "' --checkpoint-every 8 --threads 1 >/dev/null 2>&1")
                                   .c_str());
  EXPECT_EQ(WEXITSTATUS(code), 1);  // interrupted: not a usable result
  const auto resumed = run_parafit(common + "--resume '" + ckpt + "' --threads 2 --json '" + dir + "/resumed.json'", dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_TRUE(has(resumed.out, "Resumed:    from step 24")) << resumed.out;
  json a = without_timings(json::parse(read_file(dir + "/whole.json")));
  json b = without_timings(json::parse(read_file(dir + "/resumed.json")));
  EXPECT_EQ(a["parameters"], b["parameters"]);
  EXPECT_EQ(a["history"], b["history"]);
  EXPECT_EQ(b["summary"]["resumed_from_step"], 24);

  write_file(dir + "/bad.ckpt", "{\"format\": \"parafit-checkpoint\", \"version\": 1, \"settings\"");
  const auto bad = run_parafit(common + "--resume '" + dir + "/bad.ckpt'", dir);
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(has(bad.err, "damaged or truncated")) << bad.err;
  const auto other = run_parafit("train --data '" + data + "' --model exp-decay --lr 0.01 --epochs 3 --schedule cosine "
                                 "--resume '" + ckpt + "'", dir);
  EXPECT_EQ(other.code, 1);
  EXPECT_TRUE(has(other.err, "learning_rate")) << other.err;
}

// --resume with a larger --epochs extends a finished run: 3 epochs, then 2 more from its last
// checkpoint, give the bits of 5 epochs in one go, for schedules that do not depend on the run's
// length (constant, step). A cosine spans the run's epochs, so extending it is refused, naming
// why; fewer epochs than the checkpoint has done are refused too.
TEST(CliTrain, ResumeExtendsARunWithMoreEpochs) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 3000);
  for (const std::string schedule : {"constant", "step:2:0.5"}) {
    const std::string common = "train --data '" + data + "' --model exp-decay --lr 0.02 --schedule " + schedule + " ";
    const auto whole = run_parafit(common + "--epochs 5 --json '" + dir + "/whole.json'", dir);
    ASSERT_EQ(whole.code, 0) << whole.err;
    const auto first = run_parafit(common + "--epochs 3 --checkpoint '" + dir + "/c.ckpt'", dir);
    ASSERT_EQ(first.code, 0) << first.err;
    const auto more = run_parafit(common + "--epochs 5 --resume '" + dir + "/c.ckpt' --json '" + dir + "/more.json'", dir);
    ASSERT_EQ(more.code, 0) << schedule << "\n" << more.err;
    const json a = without_timings(json::parse(read_file(dir + "/whole.json")));
    const json b = without_timings(json::parse(read_file(dir + "/more.json")));
    EXPECT_EQ(a["parameters"], b["parameters"]) << schedule;
    EXPECT_EQ(a["history"], b["history"]) << schedule;
    EXPECT_EQ(b["history"].size(), 5u) << schedule;
    const auto fewer = run_parafit(common + "--epochs 2 --resume '" + dir + "/c.ckpt'", dir);
    EXPECT_EQ(fewer.code, 1) << fewer.err;
    EXPECT_TRUE(has(fewer.err, "past this run's 2 epochs")) << fewer.err;
  }
  const std::string cosine = "train --data '" + data + "' --model exp-decay --lr 0.02 --schedule cosine ";
  ASSERT_EQ(run_parafit(cosine + "--epochs 3 --checkpoint '" + dir + "/cos.ckpt'", dir).code, 0);
  const auto extended = run_parafit(cosine + "--epochs 5 --resume '" + dir + "/cos.ckpt'", dir);
  EXPECT_EQ(extended.code, 1) << extended.err;
  EXPECT_TRUE(has(extended.err, "epochs: checkpoint 3 vs now 5 (a cosine schedule spans the run's epochs")) << extended.err;
}

TEST(CliTrain, MlpSavedAndPredictedReproducesItsTrainingLoss) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir);
  const auto r = run_parafit("train --data '" + data + "' --model mlp:32,32 --epochs 5 --lr 0.005 --batch 64 --save '" +
                                 dir + "/m.model' --json '" + dir + "/m.json'",
                             dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(read_file(dir + "/m.json"));
  EXPECT_EQ(doc["model"]["widths"], json::parse("[4, 32, 32, 1]"));
  const double train_mse = doc["summary"]["train_mse"].get<double>();
  EXPECT_LT(train_mse, 0.05);  // the response has variance ~0.9: the net has learned it
  const auto p = run_parafit("predict --model-file '" + dir + "/m.model' --data '" + data + "' --out '" + dir + "/p.csv'", dir);
  ASSERT_EQ(p.code, 0) << p.err;
  // The MSE of the saved model's predictions, computed here, is the MSE training reported.
  std::istringstream pred(read_file(dir + "/p.csv")), orig(read_file(data));
  std::string a, b;
  std::getline(pred, a);
  EXPECT_EQ(a, "x0,x1,x2,x3,fit");
  std::getline(orig, b);
  double sse = 0;
  std::size_t n = 0;
  while (std::getline(pred, a) && std::getline(orig, b)) {
    const double fit = std::stod(a.substr(a.rfind(',') + 1)), y = std::stod(b.substr(b.rfind(',') + 1));
    sse += (fit - y) * (fit - y);
    ++n;
  }
  EXPECT_EQ(n, 4000u);
  EXPECT_NEAR(sse / double(n), train_mse, 1e-4 * train_mse);  // float32 forward pass vs double
  write_file(dir + "/broken.model", read_file(dir + "/m.model").substr(0, 200));
  const auto broken = run_parafit("predict --model-file '" + dir + "/broken.model' --data '" + data + "'", dir);
  EXPECT_EQ(broken.code, 1);
  EXPECT_TRUE(has(broken.err, "invalid model file")) << broken.err;
}

// --init-from fine-tunes a saved model: training starts from its weights. With a learning rate
// too small to move them, the run ends where the saved model was: a curve keeps its estimates;
// an MLP keeps its predictions even on other rows (its standardisation comes from the file, not
// from the new rows), and its loss is the trained one, not a fresh network's.
TEST(CliTrain, InitFromStartsFromASavedModel) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 3000);
  ASSERT_EQ(run_parafit("train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 3 --save '" + dir +
                            "/c.model'", dir).code, 0);
  const json saved = json::parse(read_file(dir + "/c.model"));
  const auto tuned = run_parafit("train --data '" + data + "' --model exp-decay --lr 1e-12 --epochs 1 --init-from '" +
                                     dir + "/c.model' --json '" + dir + "/t.json'", dir);
  ASSERT_EQ(tuned.code, 0) << tuned.err;
  const json t = json::parse(read_file(dir + "/t.json"));
  for (const auto& p : saved["parameters"])
    EXPECT_NEAR(t["parameters"][p["name"].get<std::string>()].get<double>(), p["estimate"].get<double>(), 1e-9) << p;

  const std::string mlp = mlp_csv(dir);
  ASSERT_EQ(run_parafit("train --data '" + mlp + "' --model mlp:16 --activation relu --epochs 4 --lr 0.005 --batch 64 "
                            "--save '" + dir + "/m.model' --json '" + dir + "/m.json'", dir).code, 0);
  // The first half of the rows: other means and deviations than the whole file's.
  const std::string text = read_file(mlp);
  std::size_t cut = 0;
  for (int line = 0; line <= 2000; ++line) cut = text.find('\n', cut) + 1;
  write_file(dir + "/half.csv", text.substr(0, cut));
  const std::string half = dir + "/half.csv";
  const auto fine = run_parafit("train --data '" + half + "' --model mlp:16 --lr 1e-12 --epochs 1 --init-from '" + dir +
                                    "/m.model' --save '" + dir + "/f.model' --json '" + dir + "/f.json'", dir);
  ASSERT_EQ(fine.code, 0) << fine.err;
  EXPECT_TRUE(has(fine.out, "relu")) << fine.out;  // the file's activation, without --activation
  const auto fresh = run_parafit("train --data '" + half + "' --model mlp:16 --activation relu --lr 1e-12 --epochs 1 "
                                     "--json '" + dir + "/n.json'", dir);
  ASSERT_EQ(fresh.code, 0) << fresh.err;
  const double trained = json::parse(read_file(dir + "/m.json"))["summary"]["train_mse"].get<double>();
  const double fine_mse = json::parse(read_file(dir + "/f.json"))["summary"]["train_mse"].get<double>();
  const double fresh_mse = json::parse(read_file(dir + "/n.json"))["summary"]["train_mse"].get<double>();
  EXPECT_LT(fine_mse, 3 * trained) << trained;
  EXPECT_GT(fresh_mse, 10 * fine_mse);
  for (const char* model : {"m", "f"})
    ASSERT_EQ(run_parafit(std::string("predict --model-file '") + dir + "/" + model + ".model' --data '" + half +
                              "' --out '" + dir + "/" + model + ".csv'", dir).code, 0);
  std::istringstream a(read_file(dir + "/m.csv")), b(read_file(dir + "/f.csv"));
  std::string la, lb;
  std::size_t rows = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    if (rows++ == 0) continue;
    const double pa = std::stod(la.substr(la.rfind(',') + 1)), pb = std::stod(lb.substr(lb.rfind(',') + 1));
    ASSERT_NEAR(pa, pb, 1e-6 * (1 + std::fabs(pa))) << "row " << rows;
  }
  EXPECT_EQ(rows, 2001u);
}

// A fine-tuned MLP's weights are in its initial model's units: its checkpoint resumes with the
// same --init-from (to the bits of the uninterrupted fine-tuning), and is refused without it
// instead of resuming in the new rows' units.
TEST(CliTrain, FineTunedMlpResumesOnlyWithItsInitialModel) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 2000);
  ASSERT_EQ(run_parafit("train --data '" + data + "' --model mlp:8 --epochs 1 --lr 0.005 --save '" + dir + "/m.model'",
                        dir).code, 0);
  const std::string common = "train --data '" + data + "' --model mlp:8 --epochs 2 --lr 0.001 --init-from '" + dir +
                             "/m.model' ";
  ASSERT_EQ(run_parafit(common + "--json '" + dir + "/whole.json'", dir).code, 0);
  const int code = std::system(("PARAFIT_TESTING_STOP_AFTER_STEPS=12 '" PARAFIT_TESTING_EXE "' " + common +
                                "--checkpoint '" + dir + "/c.ckpt' --checkpoint-every 5 >/dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(code), 1);
  const auto without = run_parafit("train --data '" + data + "' --model mlp:8 --epochs 2 --lr 0.001 --resume '" + dir +
                                       "/c.ckpt'", dir);
  EXPECT_EQ(without.code, 1) << without.err;
  EXPECT_TRUE(has(without.err, "init_from (in the checkpoint, not now)")) << without.err;
  const auto resumed = run_parafit(common + "--resume '" + dir + "/c.ckpt' --json '" + dir + "/r.json'", dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  const json a = without_timings(json::parse(read_file(dir + "/whole.json")));
  const json b = without_timings(json::parse(read_file(dir + "/r.json")));
  EXPECT_EQ(a["history"], b["history"]);
  EXPECT_EQ(a["summary"]["train_mse"], b["summary"]["train_mse"]);
}

// --init-from refuses a model file that is not the model the flags ask for (exit 2, naming the
// difference), cannot be combined with --start (exit 2), and reports a missing or
// damaged file as bad input (exit 1). Nothing is trained or written then.
TEST(CliTrain, InitFromErrors) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 1000);
  ASSERT_EQ(run_parafit("train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 1 --save '" + dir +
                            "/c.model'", dir).code, 0);
  ASSERT_EQ(run_parafit("train --data '" + data + "' --model mlp:8 --lr 0.01 --epochs 1 --save '" + dir + "/m.model'",
                        dir).code, 0);
  ASSERT_EQ(run_parafit("train --data '" + data + "' --model 'a*exp(-b*x)+c' --start a=2,b=1,c=0.4 --lr 0.02 --epochs 1 "
                        "--save '" + dir + "/f.model'", dir).code, 0);
  write_file(dir + "/broken.model", read_file(dir + "/c.model").substr(0, 100));
  struct Case {
    std::string args;
    int code;
    std::string message;
  };
  const std::string c = " --init-from '" + dir + "/c.model'", m = " --init-from '" + dir + "/m.model'";
  const std::vector<Case> cases = {
      {"--model gauss" + c, 2, "c.model' holds the model 'exp-decay', but --model is 'gauss'"},
      {"--model mlp:8" + c, 2, "c.model' holds the curve model 'exp-decay', but --model is 'mlp:8'"},
      {"--model exp-decay --x y" + c, 2, "the model's inputs are x, but --x is y"},
      {"--model exp-decay" + m, 2, "m.model' holds an MLP (mlp 1-8-1 tanh float32, 25 parameters), but --model is "
                                   "'exp-decay'"},
      {"--model mlp:16" + m, 2, "the model's hidden layers are mlp:8, but --model is 'mlp:16'"},
      {"--model mlp:8 --activation relu" + m, 2, "the model's activation is tanh, but --activation is relu"},
      {"--model mlp:8 --y x" + m, 2, "the model's response is y, but --y is x"},
      {"--model 'a*exp(-b*x)+c' --params c,b,a --init-from '" + dir + "/f.model'", 2,
       "the model's parameters are a,b,c, but --params is c,b,a"},
      {"--model exp-decay --start a=1" + c, 2, "--start and --init-from both give the starting weights"},
      {"--model exp-decay --init-from '" + dir + "/none.model'", 1, "--init-from: cannot open model file"},
      {"--model exp-decay --init-from '" + dir + "/broken.model'", 1, "--init-from: " + dir + "/broken.model: invalid "
                                                                      "model file"},
  };
  for (const auto& k : cases) {
    const auto r = run_parafit("train --data '" + data + "' --epochs 1 --json '" + dir + "/out.json' " + k.args, dir);
    EXPECT_EQ(r.code, k.code) << k.args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, k.message)) << k.args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << k.args;
    EXPECT_FALSE(std::ifstream(dir + "/out.json").good()) << k.args;
  }
}

#ifdef PARAFIT_MPIEXEC
TEST(CliTrainMpi, SameWeightsForAnyRanksAndThreads) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 3000);
  for (const std::string model : {"exp-decay", "mlp:16"}) {
    const std::string src = model == "exp-decay" ? decay_csv(dir, 6000) : data;
    const std::string args = "train --data '" + src + "' --model " + model + " --epochs 2 --lr 0.01 --batch 64 --val-split 0.2 ";
    const auto one = run_parafit(args + "--threads 1 --json '" + dir + "/one.json'", dir);
    ASSERT_EQ(one.code, 0) << one.err;
    const json reference = without_timings(json::parse(read_file(dir + "/one.json")));
    for (const auto& [ranks, threads] : std::vector<std::pair<int, int>>{{2, 1}, {4, 1}, {3, 2}}) {
      const auto r = run_mpi(ranks, args + "--threads " + std::to_string(threads) + " --json '" + dir + "/mpi.json'", dir);
      ASSERT_EQ(r.code, 0) << model << ", " << ranks << " ranks\n" << r.err;
      json doc = json::parse(read_file(dir + "/mpi.json"));
      EXPECT_EQ(doc["run"]["ranks"], ranks);
      EXPECT_EQ(without_timings(doc), reference) << model << ", " << ranks << " ranks x " << threads << " threads";
    }
  }
}

// ZeRO-1: the optimizer state sharded over the ranks gives the weights of one process, bit for bit,
// and the summary says it was sharded.
TEST(CliTrainMpi, ShardedOptimizerGivesTheSameWeights) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 3000);
  const std::string args = "train --data '" + data + "' --model mlp:16,8 --epochs 2 --lr 0.01 --batch 64 ";
  const auto one = run_parafit(args + "--threads 1 --json '" + dir + "/one.json'", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  const json reference = without_timings(json::parse(read_file(dir + "/one.json")));
  for (const int ranks : {2, 3}) {
    const auto r = run_mpi(ranks, args + "--threads 1 --shard-optimizer on --json '" + dir + "/mpi.json'", dir);
    ASSERT_EQ(r.code, 0) << ranks << " ranks\n" << r.err;
    EXPECT_TRUE(has(r.out, "optimizer state sharded (ZeRO-1)")) << r.out;
    EXPECT_EQ(without_timings(json::parse(read_file(dir + "/mpi.json"))), reference) << ranks << " ranks";
  }
  const auto off = run_mpi(2, args + "--threads 1 --shard-optimizer off", dir);
  ASSERT_EQ(off.code, 0) << off.err;
  EXPECT_FALSE(has(off.out, "sharded")) << off.out;
  const auto bad = run_parafit(args + "--shard-optimizer sometimes", dir);
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(has(bad.err, "--shard-optimizer")) << bad.err;
}

// Local SGD under mpirun: every rank averages to the same weights, the summary and the JSON say
// what the bits depend on, and a straggler (--debug-slow-rank) changes no bits.
TEST(CliTrainMpi, LocalSgdAveragesAndSaysWhatItsBitsDependOn) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 3000);
  const std::string args = "train --data '" + data + "' --model mlp:16,8 --epochs 2 --lr 0.01 --batch 64 --threads 1 ";
  const auto r = run_mpi(2, args + "--sync local:4 --json '" + dir + "/a.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "Sync:        local:4 (local SGD: ")) << r.out;
  EXPECT_TRUE(has(r.out, "the same bits for the same number of workers")) << r.out;
  const json a = json::parse(read_file(dir + "/a.json"));
  EXPECT_EQ(a["optimizer"]["sync"], "local:4");
  EXPECT_EQ(a["optimizer"]["average_moments"], false);
  EXPECT_GT(a["summary"]["averages"].get<int>(), 0);
  const auto slow = run_mpi(2, args + "--sync local:4 --debug-slow-rank 1:1.5 --json '" + dir + "/b.json'", dir);
  ASSERT_EQ(slow.code, 0) << slow.err;
  EXPECT_EQ(without_timings(json::parse(read_file(dir + "/b.json"))), without_timings(a));
  // Without mpirun, each of --threads 2 is a worker: the weights of 2 ranks.
  const auto threads = run_parafit("train --data '" + data + "' --model mlp:16,8 --epochs 2 --lr 0.01 --batch 64 "
                                   "--threads 2 --sync local:4 --json '" + dir + "/t.json'",
                                   dir);
  ASSERT_EQ(threads.code, 0) << threads.err;
  EXPECT_EQ(without_timings(json::parse(read_file(dir + "/t.json"))), without_timings(a));
  const auto sync = run_mpi(2, args + "--json '" + dir + "/s.json'", dir);
  ASSERT_EQ(sync.code, 0) << sync.err;
  EXPECT_FALSE(has(sync.out, "Sync:")) << sync.out;
  EXPECT_EQ(json::parse(read_file(dir + "/s.json"))["summary"]["reproducibility"],
            "the same bits for any number of threads and ranks");
}

// The parameter server with staleness 0 is synchronous training: the saved model is the same bytes;
// the summary says how many servers and workers ran and how stale their weights were.
TEST(CliTrainMpi, ParameterServerWithStalenessZeroSavesTheSyncModel) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 3000);
  const std::string args = "train --data '" + data + "' --model mlp:16,8 --epochs 2 --lr 0.01 --batch 64 --threads 1 ";
  const auto sync = run_parafit(args + "--save '" + dir + "/sync.model'", dir);
  ASSERT_EQ(sync.code, 0) << sync.err;
  const auto ssp = run_mpi(4, args + "--sync ssp:0 --servers 2 --save '" + dir + "/ssp.model' --json '" + dir + "/ssp.json'", dir);
  ASSERT_EQ(ssp.code, 0) << ssp.err;
  EXPECT_EQ(read_file(dir + "/ssp.model"), read_file(dir + "/sync.model"));
  EXPECT_TRUE(has(ssp.out, "Sync:        ssp:0 (parameter server: 2 server rank(s) and 2 worker(s); weights stale by "
                           "0.00 steps on average, at most 0)"))
      << ssp.out;
  const json doc = json::parse(read_file(dir + "/ssp.json"));
  EXPECT_EQ(doc["optimizer"]["sync"], "ssp:0");
  EXPECT_EQ(doc["optimizer"]["servers"], 2);
  EXPECT_EQ(doc["summary"]["staleness_max"], 0);
  const auto stale = run_mpi(3, args + "--sync ssp:2 --json '" + dir + "/stale.json'", dir);
  ASSERT_EQ(stale.code, 0) << stale.err;
  const json s2 = json::parse(read_file(dir + "/stale.json"));
  EXPECT_LE(s2["summary"]["staleness_max"].get<int>(), 2);
  EXPECT_EQ(s2["summary"]["reproducibility"],
            "none: workers compute on weights up to S steps stale, as timing has it (not reproducible)");
}

// Hogwild on the threads of one process: the Sync line and the JSON say the bits are not
// reproducible and how many steps each thread took; a thread that does not exist, or several
// ranks, are usage errors naming the flag.
TEST(CliTrain, HogwildSaysItIsNotReproducible) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 3000);
  const std::string args = "train --data '" + data + "' --model mlp:16,8 --epochs 2 --lr 0.01 --batch 64 --threads 2 ";
  const auto r = run_parafit(args + "--sync hogwild --debug-slow-rank 1:3 --json '" + dir + "/h.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "Sync:        hogwild (lock-free threads; steps per thread: ")) << r.out;
  EXPECT_TRUE(has(r.out, "; none: Hogwild threads race by design (not reproducible)\n")) << r.out;
  const json h = json::parse(read_file(dir + "/h.json"));
  EXPECT_EQ(h["optimizer"]["sync"], "hogwild");
  EXPECT_EQ(h["summary"]["reproducibility"], "none: Hogwild threads race by design (not reproducible)");
  ASSERT_EQ(h["summary"]["thread_steps"].size(), 2u);
  EXPECT_EQ(h["summary"]["thread_steps"][0].get<int>() + h["summary"]["thread_steps"][1].get<int>(),
            h["summary"]["steps"].get<int>());
  EXPECT_FALSE(h["summary"].contains("averages"));
  const auto missing = run_parafit(args + "--sync hogwild --debug-slow-rank 2:3", dir);
  EXPECT_EQ(missing.code, 2);
  EXPECT_TRUE(has(missing.err, "--debug-slow-rank: thread 2 does not exist (2 thread(s); under --sync hogwild"))
      << missing.err;
}

TEST(CliTrainMpi, HogwildIsRefusedAcrossRanks) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 500);
  const auto r = run_mpi(2, "train --data '" + data + "' --model mlp:4 --epochs 1 --threads 1 --sync hogwild", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "--sync hogwild runs on the threads of one rank, not on 2 ranks; use local:H or ssp:S"))
      << r.err;
}

TEST(CliTrainMpi, ResumeOnAnotherNumberOfRanks) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 6000);
  const std::string common = "train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 2 ";
  ASSERT_EQ(run_parafit(common + "--json '" + dir + "/whole.json'", dir).code, 0);
  const auto cut = run_mpi(2, common + "--checkpoint '" + dir + "/c.ckpt' --checkpoint-every 10", dir,
                           "PARAFIT_TESTING_STOP_AFTER_STEPS=25");
  EXPECT_EQ(cut.code, 1) << cut.err;
  const auto resumed = run_mpi(3, common + "--resume '" + dir + "/c.ckpt' --json '" + dir + "/r.json'", dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  const json a = without_timings(json::parse(read_file(dir + "/whole.json")));
  const json b = without_timings(json::parse(read_file(dir + "/r.json")));
  EXPECT_EQ(a["parameters"], b["parameters"]);
  EXPECT_EQ(a["history"], b["history"]);
}

// A rank killed by SIGKILL after its checkpoint: resuming on another number of ranks gives the
// weights and history of the run that was never interrupted, bit for bit.
TEST(CliTrainMpi, ResumeAfterSigkillOnAnotherNumberOfRanks) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 6000);
  const std::string common = "train --data '" + data + "' --model exp-decay --lr 0.02 --epochs 2 ";
  ASSERT_EQ(run_parafit(common + "--json '" + dir + "/whole.json'", dir).code, 0);
  const auto killed = run_mpi(3, common + "--checkpoint '" + dir + "/c.ckpt' --checkpoint-every 10", dir,
                              "PARAFIT_TESTING_KILL_RANK=2 PARAFIT_TESTING_AT_STEP=25");
  EXPECT_NE(killed.code, 0) << killed.err;
  EXPECT_TRUE(has(killed.err, "killing itself with SIGKILL after step 25")) << killed.err;
  const auto resumed = run_mpi(2, common + "--resume '" + dir + "/c.ckpt' --json '" + dir + "/r.json'", dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_TRUE(has(resumed.out, "Resumed:    from step 20")) << resumed.out;
  const json a = without_timings(json::parse(read_file(dir + "/whole.json")));
  const json b = without_timings(json::parse(read_file(dir + "/r.json")));
  EXPECT_EQ(a["parameters"], b["parameters"]);
  EXPECT_EQ(a["history"], b["history"]);
}

// Fine-tuning under mpirun: every rank loads the model file; the same weights as one process. A
// model file that is not the model asked for is one usage error (exit 2), from rank 0.
TEST(CliTrainMpi, InitFromOnSeveralRanks) {
  const auto dir = scratch_dir();
  const std::string data = mlp_csv(dir, 2000);
  ASSERT_EQ(run_parafit("train --data '" + data + "' --model mlp:8 --epochs 1 --lr 0.005 --save '" + dir + "/m.model'",
                        dir).code, 0);
  const std::string common = "train --data '" + data + "' --model mlp:8 --epochs 2 --lr 0.001 --threads 1 --init-from '" +
                             dir + "/m.model' ";
  ASSERT_EQ(run_parafit(common + "--json '" + dir + "/one.json'", dir).code, 0);
  const auto r = run_mpi(3, common + "--json '" + dir + "/three.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(without_timings(json::parse(read_file(dir + "/one.json")))["history"],
            without_timings(json::parse(read_file(dir + "/three.json")))["history"]);
  const auto bad = run_mpi(2, "train --data '" + data + "' --model mlp:4 --init-from '" + dir + "/m.model'", dir);
  EXPECT_EQ(bad.code, 2) << bad.err;
  const std::string message = "the model's hidden layers are mlp:8, but --model is 'mlp:4'";
  EXPECT_TRUE(has(bad.err, message)) << bad.err;
  EXPECT_EQ(bad.err.find(message), bad.err.rfind(message)) << bad.err;
}

// Failures end every rank with one message, never a hang: a bad line in the last rank's shard, a
// checkpoint that cannot be written (rank 0 fails, the others must not wait), a rank that dies.
TEST(CliTrainMpi, FailuresStopEveryRank) {
  const auto dir = scratch_dir();
  const std::string data = decay_csv(dir, 20000);
  std::string text = read_file(data);
  const std::size_t at = text.rfind('\n', text.size() - 200) + 1;
  const std::size_t line = std::size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n')) + 1;
  text.insert(at, "oops");
  write_file(dir + "/bad.csv", text);
  const std::string args = " --model exp-decay --epochs 2 --lr 0.01 --threads 1";
  auto r = run_mpi(2, "train --data '" + dir + "/bad.csv'" + args, dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, "rank 1: " + dir + "/bad.csv:" + std::to_string(line) + ":")) << r.err;

  r = run_mpi(2, "train --data '" + data + "'" + args + " --checkpoint '" + dir + "/no/such/dir/c.ckpt'", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, "rank 0: --checkpoint: cannot write checkpoint")) << r.err;

  // An error every rank meets alike is reported once, by rank 0.
  r = run_mpi(2, "train --data '" + data + "'" + args + " --batch 4", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, "--batch: 4 is smaller than the 8 strata")) << r.err;
  EXPECT_EQ(r.err.find("parafit: error:"), r.err.rfind("parafit: error:")) << r.err;

  const auto start = std::chrono::steady_clock::now();
  r = run_mpi(2, "train --data '" + data + "'" + args, dir, "PARAFIT_TESTING_EXIT_RANK=1 PARAFIT_TESTING_EXIT_AFTER=40");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, 124) << "timed out: a rank hung";
  EXPECT_TRUE(has(r.err, "rank 1: exiting on purpose")) << r.err;
}
#endif

}  // namespace
}  // namespace parafit::testing
