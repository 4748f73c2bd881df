// Output files lose nothing: an output that is an input (or another output) is refused, every
// output file is replaced atomically (a failure leaves the previous file and no temporary file),
// train checks its destinations before training, and a full disk is an error, not a lost file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

namespace fs = std::filesystem;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string gen_decay(const std::string& dir, const std::string& name, std::size_t rows) {
  const std::string path = dir + "/" + name;
  const auto r = run_parafit("gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows " + std::to_string(rows) +
                                 " --x-range 0:5 --noise 0.05 --seed 3 --out '" + path + "'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return path;
}

// The names in `dir` (the runner's stdout.txt and stderr.txt left out): no temporary file may
// remain after a failed write.
std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name != "stdout.txt" && name != "stderr.txt") names.insert(name);
  }
  return names;
}

bool is_char_device(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

// Defect 1: `fit --data v.csv --json v.csv` exited 0 having overwritten its data.
TEST(CliOutputs, AnOutputThatIsAnInputOrAnotherOutputIsRefused) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, "v.csv", 200);
  const std::string original = read_file(data);
  const std::string fit = "fit --data '" + data + "' --model exp-decay ";
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {fit + "--json '" + data + "'", "--json '" + data + "' is the same file as --data '" + data + "'"},
      // Another spelling of the same file: compared by device and inode, not by name.
      {fit + "--save '" + dir + "/./v.csv'", "--save '" + dir + "/./v.csv' is the same file as --data"},
      {"train --data '" + data + "' --model exp-decay --epochs 1 --json '" + data + "'",
       "--json '" + data + "' is the same file as --data"},
      {"train --data '" + data + "' --model exp-decay --epochs 1 --checkpoint '" + data + "'",
       "--checkpoint '" + data + "' is the same file as --data"},
      {"predict --model-file '" + dir + "/m.json' --data '" + data + "' --out '" + data + "'",
       "--out '" + data + "' is the same file as --data"},
  };
  for (const Case& c : cases) {
    const auto r = run_parafit(c.args, dir);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, c.message)) << r.err;
    EXPECT_EQ(read_file(data), original) << c.args;
  }

  // Two outputs that are one file, neither written yet: "o.json" and "./o.json" from the directory.
  const auto both = run_parafit("fit --data v.csv --model exp-decay --json o.json --save ./o.json", dir);
  EXPECT_EQ(both.code, 2) << both.err;
  EXPECT_TRUE(has(both.err, "--json 'o.json' and --save './o.json' are the same file")) << both.err;
  EXPECT_FALSE(fs::exists(dir + "/o.json"));
  const auto ckpt = run_parafit("train --data v.csv --model exp-decay --epochs 1 --save c.ckpt --checkpoint c.ckpt", dir);
  EXPECT_EQ(ckpt.code, 2) << ckpt.err;
  EXPECT_TRUE(has(ckpt.err, "--save 'c.ckpt' and --checkpoint 'c.ckpt' are the same file")) << ckpt.err;
  EXPECT_FALSE(fs::exists(dir + "/c.ckpt"));

  // predict's model file, reached through a symbolic link.
  ASSERT_EQ(run_parafit(fit + "--save '" + dir + "/m.json'", dir).code, 0);
  const std::string model = read_file(dir + "/m.json");
  fs::create_symlink(dir + "/m.json", dir + "/link.json");
  const auto pred = run_parafit("predict --model-file '" + dir + "/m.json' --data '" + data + "' --out '" + dir +
                                    "/link.json'",
                                dir);
  EXPECT_EQ(pred.code, 2) << pred.err;
  EXPECT_TRUE(has(pred.err, "--out '" + dir + "/link.json' is the same file as --model-file")) << pred.err;
  EXPECT_EQ(read_file(dir + "/m.json"), model);

  // An output inside a .npy directory given as --data would read as a column of it.
  ASSERT_EQ(run_parafit("convert --data '" + data + "' --out '" + dir + "/npy'", dir).code, 0);
  const auto inside = run_parafit("fit --data '" + dir + "/npy' --model exp-decay --json '" + dir + "/npy/fit.npy'", dir);
  EXPECT_EQ(inside.code, 2) << inside.err;
  EXPECT_TRUE(has(inside.err, "is inside the .npy directory --data")) << inside.err;
  EXPECT_FALSE(fs::exists(dir + "/npy/fit.npy"));
  // convert: a column file it would write is the CSV file it reads.
  fs::create_directories(dir + "/conv");
  fs::copy_file(data, dir + "/conv/x.npy");
  const auto conv = run_parafit("convert --data '" + dir + "/conv/x.npy' --out '" + dir + "/conv' --force", dir);
  EXPECT_EQ(conv.code, 2) << conv.err;
  EXPECT_TRUE(has(conv.err, "is the same file as --data")) << conv.err;
  EXPECT_EQ(read_file(dir + "/conv/x.npy"), original);

  // "-" is standard output, never a file; and train may checkpoint to the file it resumes from.
  EXPECT_EQ(run_parafit("predict --model-file '" + dir + "/m.json' --data '" + data + "' --out -", dir).code, 0);
  const std::string train = "train --data '" + data + "' --model exp-decay --epochs 2 --batch 32 --threads 1 ";
  const int cut = std::system(("PARAFIT_TESTING_STOP_AFTER_STEPS=5 '" PARAFIT_TESTING_EXE "' " + train +
                               "--checkpoint '" + dir + "/run.ckpt' --checkpoint-every 2 >/dev/null 2>&1")
                                  .c_str());
  EXPECT_EQ(WEXITSTATUS(cut), 1);
  const auto resumed = run_parafit(train + "--resume '" + dir + "/run.ckpt' --checkpoint '" + dir + "/run.ckpt'", dir);
  EXPECT_EQ(resumed.code, 0) << resumed.err;
}

// Defect 2: gen truncated --out first, so a failure left an empty or a partial file that reads as data.
TEST(CliOutputs, AFailedWriteLeavesThePreviousFileAndNoTemporaryFile) {
  const auto dir = scratch_dir();
  const std::string out = gen_decay(dir, "out.csv", 5000);
  const std::string original = read_file(out);
  const std::set<std::string> before = entries(dir);

  // Fails at the first row.
  auto r = run_parafit("gen --model log --params a=1,b=2 --rows 100 --x-range -5:-1 --out '" + out + "'", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, "model 'log' is not finite")) << r.err;
  EXPECT_EQ(read_file(out), original);
  EXPECT_EQ(entries(dir), before);

  // Fails after megabytes were written (exp overflows near the top of the range).
  r = run_parafit("gen --model exp-growth --params a=1,b=1 --rows 1000000 --x-range 0:709.79 --out '" + out + "'",
                  dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, "model 'exp-growth' is not finite")) << r.err;
  EXPECT_EQ(read_file(out), original);
  EXPECT_EQ(entries(dir), before);

  // A bad argument is reported before anything is created.
  r = run_parafit("gen --model exp-decay --params a=1,b=1,z=1 --rows 10 --out '" + dir + "/new.csv'", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(entries(dir), before);

  // A successful write replaces the file whole.
  r = run_parafit("gen --model exp-decay --params a=1,b=1,c=0 --rows 10 --out '" + out + "'", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string written = read_file(out);
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 11);
  EXPECT_EQ(entries(dir), before);
}

// Replacing a file keeps what the user set up around it: its permissions, and a symbolic link to it.
TEST(CliOutputs, ReplacingAFileKeepsItsPermissionsAndLinks) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, "d.csv", 200);
  write_file(dir + "/private.json", "previous");
  fs::permissions(dir + "/private.json", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_directories(dir + "/real");
  write_file(dir + "/real/r.json", "previous");
  fs::create_symlink(dir + "/real/r.json", dir + "/link.json");
  const auto r = run_parafit("fit --data '" + data + "' --model exp-decay --json '" + dir + "/private.json' --save '" +
                                 dir + "/link.json'",
                             dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(read_file(dir + "/private.json"), "\"parameters\"")) << read_file(dir + "/private.json");
  EXPECT_EQ(fs::status(dir + "/private.json").permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(fs::is_symlink(dir + "/link.json"));
  EXPECT_TRUE(has(read_file(dir + "/real/r.json"), "parafit-model")) << read_file(dir + "/real/r.json");
}

// Defect 9: train wrote --json and --save only after the last epoch, and found then that it could not.
TEST(CliOutputs, TrainChecksItsDestinationsBeforeTraining) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, "d.csv", 2000);
  const std::string train = "train --data '" + data + "' --model exp-decay --epochs 3 --threads 1 ";
  fs::create_directories(dir + "/a_directory");
  struct Case {
    std::string flags, message;
  };
  const Case cases[] = {
      {"--json '" + dir + "/no/such/r.json'", "--json: cannot write JSON file '" + dir +
                                                  "/no/such/r.json': No such file or directory"},
      {"--save '" + dir + "/no/such/m.json'", "--save: cannot write model file '" + dir +
                                                  "/no/such/m.json': No such file or directory"},
      {"--save '" + dir + "/a_directory'", "--save: cannot write model file '" + dir + "/a_directory': Is a directory"},
      {"--checkpoint '" + dir + "/no/such/c.ckpt'",
       "--checkpoint: cannot write checkpoint '" + dir + "/no/such/c.ckpt': No such file or directory"},
  };
  for (const Case& c : cases) {
    const auto r = run_parafit(train + c.flags, dir);
    EXPECT_EQ(r.code, 1) << c.flags << "\n" << r.err;
    EXPECT_TRUE(has(r.err, c.message)) << r.err;
    EXPECT_FALSE(has(r.err, "epoch 1/3")) << "trained before checking: " << r.err;
    EXPECT_EQ(r.out, "") << "trained before checking";
  }
  // fit checks them before fitting too.
  const auto fit = run_parafit("fit --data '" + data + "' --model exp-decay --json '" + dir + "/no/such/r.json'", dir);
  EXPECT_EQ(fit.code, 1) << fit.err;
  EXPECT_TRUE(has(fit.err, "--json: cannot write JSON file")) << fit.err;
  EXPECT_EQ(fit.out, "");
}

// A write error (here the full device) is reported, never ignored; a device is written directly,
// never replaced by a file. The devices are the test's own nodes (mknod), like /dev/full and
// /dev/null, so that a writer that renames over its target spoils only the test's directory.
TEST(CliOutputs, WriteErrorsAreReportedAndDevicesStayDevices) {
  const auto dir = scratch_dir();
  const std::string full = dir + "/full", null = dir + "/null";
  if (::mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0 ||
      ::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0 || ::access(full.c_str(), W_OK) != 0)
    GTEST_SKIP() << "cannot make the device nodes of /dev/full and /dev/null here (needs root)";
  const std::string data = gen_decay(dir, "d.csv", 200);
  const std::string fit = "fit --data '" + data + "' --model exp-decay ";
  ASSERT_EQ(run_parafit(fit + "--save '" + dir + "/m.json'", dir).code, 0);
  const std::vector<std::string> commands = {
      fit + "--json '" + full + "'", fit + "--save '" + full + "'",
      "gen --model poly:1 --params b0=1,b1=2 --rows 10 --out '" + full + "'",
      "predict --model-file '" + dir + "/m.json' --data '" + data + "' --out '" + full + "'"};
  for (const std::string& args : commands) {
    const auto r = run_parafit(args, dir);
    EXPECT_EQ(r.code, 1) << args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, "'" + full + "': No space left on device")) << r.err;
    EXPECT_TRUE(is_char_device(full)) << args << " replaced the device by a file";
  }
  EXPECT_EQ(run_parafit(fit + "--json '" + null + "'", dir).code, 0);
  EXPECT_TRUE(is_char_device(null));
}

// A small tmpfs mounted on a directory of the test and filled up, unmounted when the test ends.
class FullDisk {
 public:
  explicit FullDisk(const std::string& dir) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = std::system(("mount -t tmpfs -o size=64k tmpfs '" + dir + "' 2>/dev/null").c_str()) == 0;
  }
  ~FullDisk() {
    if (mounted_) std::system(("umount -l '" + dir_ + "'").c_str());
  }
  bool mounted() const { return mounted_; }
  // Takes every free block (the files already there stay).
  void fill() const { std::system(("dd if=/dev/zero of='" + dir_ + "/filler' bs=1k 2>/dev/null").c_str()); }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Disk full: --json, --save, a checkpoint and convert's output fail with a message and leave the
// previous file intact.
TEST(CliOutputs, AFullDiskLeavesThePreviousFiles) {
  const auto dir = scratch_dir();
  const FullDisk disk(dir + "/full");
  if (!disk.mounted())
    GTEST_SKIP() << "cannot mount a 64 KiB tmpfs (needs root or CAP_SYS_ADMIN, e.g. not in an unprivileged "
                    "container), so there is no full file system to write to";
  const std::string data = gen_decay(dir, "d.csv", 3000);  // its .npy columns alone need 48 KiB
  const std::string full = dir + "/full";
  for (const char* name : {"r.json", "m.json", "c.ckpt"}) write_file(full + "/" + name, std::string("previous ") + name);
  fs::create_directories(full + "/npy");
  write_file(full + "/npy/x.npy", "previous x.npy");
  disk.fill();
  const std::set<std::string> before = entries(full);

  const std::string fit = "fit --data '" + data + "' --model exp-decay ";
  const std::string train = "train --data '" + data + "' --model exp-decay --epochs 1 --threads 1 ";
  struct Case {
    std::string args, message, file;
  };
  const Case cases[] = {
      {fit + "--json '" + full + "/r.json'", "cannot write JSON file '" + full + "/r.json'", "r.json"},
      {fit + "--save '" + full + "/m.json'", "cannot write model file '" + full + "/m.json'", "m.json"},
      {train + "--json '" + full + "/r.json'", "cannot write JSON file '" + full + "/r.json'", "r.json"},
      {train + "--checkpoint '" + full + "/c.ckpt'", "cannot write checkpoint '" + full + "/c.ckpt'", "c.ckpt"},
      {"convert --data '" + data + "' --out '" + full + "/npy' --force", "cannot write .npy file '" + full + "/npy/",
       "npy/x.npy"},
  };
  for (const Case& c : cases) {
    const auto r = run_parafit(c.args, dir);
    EXPECT_EQ(r.code, 1) << c.args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, c.message + "")) << r.err;
    EXPECT_TRUE(has(r.err, "No space left on device")) << r.err;
    EXPECT_EQ(read_file(full + "/" + c.file), "previous " + fs::path(c.file).filename().string()) << c.args;
    EXPECT_EQ(entries(full), before) << c.args;
  }
  std::set<std::string> npy;
  for (const auto& e : fs::directory_iterator(full + "/npy")) npy.insert(e.path().filename().string());
  EXPECT_EQ(npy, std::set<std::string>{"x.npy"});
}

// Where no file system can be mounted: a file-size limit (RLIMIT_FSIZE, `ulimit -f`) makes the
// write fail part-way as a full disk would, and the previous file must survive it.
TEST(CliOutputs, AWriteCutShortByAFileSizeLimitLeavesThePreviousFile) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, "d.csv", 200);
  write_file(dir + "/r.json", "previous");
  const std::set<std::string> before = entries(dir);
  // SIGXFSZ ignored, so the write returns EFBIG instead of killing the process. 2 blocks of 512
  // bytes (sh's unit), below the JSON's ~3 KB: not 1 block, because clang's OpenMP runtime (the
  // sanitizer builds) sizes a 1 KB registration file at start-up and aborts when it cannot.
  const std::string cmd = "trap '' XFSZ; ulimit -f 2; '" PARAFIT_EXE "' fit --data '" + data +
                          "' --model exp-decay --json '" + dir + "/r.json' >/dev/null 2>'" + dir + "/err.txt'";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string err = read_file(dir + "/err.txt");
  EXPECT_TRUE(has(err, "cannot write JSON file '" + dir + "/r.json': File too large")) << err;
  EXPECT_EQ(read_file(dir + "/r.json"), "previous");
  fs::remove(dir + "/err.txt");
  EXPECT_EQ(entries(dir), before);
}

#ifdef PARAFIT_MPIEXEC
// Under mpirun rank 0, which writes the outputs, checks them and every rank stops alike: one
// message, the usage code for a collision, before any rank reads its data.
TEST(CliOutputsMpi, RankZeroChecksTheOutputsForEveryRank) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, "v.csv", 2000);
  const std::string original = read_file(data);
  auto r = run_mpi(2, "fit --data '" + data + "' --model exp-decay --json '" + data + "'", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "--json '" + data + "' is the same file as --data")) << r.err;
  EXPECT_EQ(r.err.find("parafit: error:"), r.err.rfind("parafit: error:")) << r.err;
  EXPECT_EQ(read_file(data), original);
  r = run_mpi(2, "train --data '" + data + "' --model exp-decay --epochs 2 --json '" + dir + "/no/such/r.json'", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, "rank 0: --json: cannot write JSON file")) << r.err;
  EXPECT_FALSE(has(r.err, "epoch 1/2")) << r.err;
}
#endif

}  // namespace
}  // namespace parafit::testing
