// End-to-end tests of `parafit convert` and of fit/predict reading a .npy directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string gen_decay(const std::string& dir, std::size_t rows) {
  const std::string path = dir + "/decay.csv";
  const auto r = run_parafit("gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows " + std::to_string(rows) +
                                 " --x-range 0:5 --noise 0.05 --seed 4 --out '" + path + "'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return path;
}

// The fit's JSON without what may differ between two inputs holding the same numbers.
json fit_json(const std::string& data, const std::string& model, const std::string& dir, const std::string& name) {
  const std::string js = dir + "/" + name + ".json";
  const auto r = run_parafit("fit --data '" + data + "' --model '" + model + "' --start a=1,b=1,c=0 --json '" + js + "'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  json doc = json::parse(read_file(js));
  doc.erase("run");
  doc.erase("data");
  return doc;
}

TEST(CliConvert, FitOnTheNpyDirectoryMatchesTheCsvExactly) {
  const auto dir = scratch_dir();
  const std::string csv = gen_decay(dir, 3000);
  const auto c = run_parafit("convert --data '" + csv + "' --out '" + dir + "/npy'", dir);
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, "converted 3000 rows x 2 columns (x, y) from " + csv + " to " + dir + "/npy/: 0.0 MB of .npy\n");
  EXPECT_EQ(fs::file_size(dir + "/npy/x.npy"), 128u + 3000u * 8u);
  EXPECT_EQ(fs::file_size(dir + "/npy/y.npy"), 128u + 3000u * 8u);

  // The .npy files hold the very doubles the CSV parses to, so every digit of the fit agrees.
  EXPECT_EQ(fit_json(dir + "/npy", "exp-decay", dir, "npy"), fit_json(csv, "exp-decay", dir, "csv"));
  // Formula models learn the column names from the directory.
  const std::string formula = "a*exp(-b*x) + c";
  EXPECT_EQ(fit_json(dir + "/npy", formula, dir, "npy_formula"), fit_json(csv, formula, dir, "csv_formula"));

  // predict reads a .npy directory too.
  ASSERT_EQ(run_parafit("fit --data '" + csv + "' --model exp-decay --save '" + dir + "/m.json'", dir).code, 0);
  const auto from_csv = run_parafit("predict --model-file '" + dir + "/m.json' --data '" + csv + "'", dir);
  const auto from_npy = run_parafit("predict --model-file '" + dir + "/m.json' --data '" + dir + "/npy'", dir);
  ASSERT_EQ(from_npy.code, 0) << from_npy.err;
  EXPECT_EQ(from_npy.out, from_csv.out);
}

TEST(CliConvert, ColumnsDelimiterAndDropMissing) {
  const auto dir = scratch_dir();
  write_file(dir + "/in.tsv", "a\tb\tc\n1\t2\t3\n4\tnan\t6\n7\t8\t9\n");
  const auto r = run_parafit("convert --data '" + dir + "/in.tsv' --out '" + dir + "/out' --columns c,b --delimiter tab "
                             "--drop-missing",
                             dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "converted 2 rows x 2 columns (c, b)")) << r.out;
  EXPECT_TRUE(contains(r.err, "dropped 1 row(s)")) << r.err;
  EXPECT_TRUE(fs::exists(dir + "/out/c.npy"));
  EXPECT_TRUE(fs::exists(dir + "/out/b.npy"));
  EXPECT_FALSE(fs::exists(dir + "/out/a.npy"));

  const auto nan = run_parafit("convert --data '" + dir + "/in.tsv' --out '" + dir + "/out2'", dir);
  EXPECT_EQ(nan.code, 1);
  EXPECT_TRUE(contains(nan.err, "in.tsv:3:3: NaN field 'nan' in column 'b'")) << nan.err;
  EXPECT_FALSE(fs::exists(dir + "/out2/a.npy"));
}

TEST(CliConvert, RefusesANonEmptyDirectoryUnlessForced) {
  const auto dir = scratch_dir();
  write_file(dir + "/in.csv", "x,y\n1,2\n3,4\n");
  fs::create_directories(dir + "/out");
  write_file(dir + "/out/stale.npy", "old column");
  write_file(dir + "/out/notes.txt", "keep me");
  const auto refused = run_parafit("convert --data '" + dir + "/in.csv' --out '" + dir + "/out'", dir);
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.err, "--out '" + dir + "/out' is a directory that is not empty; use --force"))
      << refused.err;
  EXPECT_FALSE(fs::exists(dir + "/out/x.npy"));

  const auto forced = run_parafit("convert --data '" + dir + "/in.csv' --out '" + dir + "/out' --force", dir);
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_FALSE(fs::exists(dir + "/out/stale.npy"));  // would read as an extra column
  EXPECT_TRUE(fs::exists(dir + "/out/notes.txt"));
  EXPECT_TRUE(fs::exists(dir + "/out/x.npy"));

  // An empty directory needs no --force; a file in the way is an error.
  fs::create_directories(dir + "/empty");
  EXPECT_EQ(run_parafit("convert --data '" + dir + "/in.csv' --out '" + dir + "/empty'", dir).code, 0);
  const auto file = run_parafit("convert --data '" + dir + "/in.csv' --out '" + dir + "/in.csv'", dir);
  EXPECT_EQ(file.code, 1);
  EXPECT_TRUE(contains(file.err, "exists and is not a directory")) << file.err;
}

TEST(CliConvert, ColumnNamesThatCannotBeFileNames) {
  const auto dir = scratch_dir();
  write_file(dir + "/slash.csv", "x,mg/L\n1,2\n");
  write_file(dir + "/dots.csv", "x,..\n1,2\n");
  const auto slash = run_parafit("convert --data '" + dir + "/slash.csv' --out '" + dir + "/a'", dir);
  EXPECT_EQ(slash.code, 1);
  EXPECT_TRUE(contains(slash.err, "column 'mg/L' cannot be a file name '<column>.npy': it contains '/'")) << slash.err;
  EXPECT_FALSE(fs::exists(dir + "/a"));
  const auto dots = run_parafit("convert --data '" + dir + "/dots.csv' --out '" + dir + "/b'", dir);
  EXPECT_EQ(dots.code, 1);
  EXPECT_TRUE(contains(dots.err, "column '..' cannot be a file name")) << dots.err;
  // Only the converted columns need safe names.
  EXPECT_EQ(run_parafit("convert --data '" + dir + "/slash.csv' --out '" + dir + "/c' --columns x", dir).code, 0);
}

TEST(CliConvert, UsageAndInputErrors) {
  const auto dir = scratch_dir();
  const auto help = run_parafit("convert --help", dir);
  EXPECT_EQ(help.code, 0);
  EXPECT_TRUE(contains(help.out, "Usage")) << help.out;
  EXPECT_TRUE(contains(help.out, "--force")) << help.out;
  EXPECT_TRUE(contains(run_parafit("--help", dir).out, "convert"));

  const auto no_out = run_parafit("convert --data x.csv", dir);
  EXPECT_EQ(no_out.code, 2);
  EXPECT_TRUE(contains(no_out.err, "--out is required")) << no_out.err;
  const auto bad_delim = run_parafit("convert --data x.csv --out d --delimiter ab", dir);
  EXPECT_EQ(bad_delim.code, 2);
  EXPECT_TRUE(contains(bad_delim.err, "--delimiter: 'ab' is not a single character")) << bad_delim.err;
  const auto missing = run_parafit("convert --data '" + dir + "/none.csv' --out '" + dir + "/d'", dir);
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(contains(missing.err, "none.csv")) << missing.err;

  // A lone .npy file given to fit is explained; a bad .npy directory names the file.
  write_file(dir + "/in.csv", "x,y\n1,2\n2,3\n3,5\n");
  ASSERT_EQ(run_parafit("convert --data '" + dir + "/in.csv' --out '" + dir + "/npy'", dir).code, 0);
  const auto lone = run_parafit("fit --data '" + dir + "/npy/x.npy' --model poly:1", dir);
  EXPECT_EQ(lone.code, 1);
  EXPECT_TRUE(contains(lone.err, "a single .npy file; parafit reads a directory")) << lone.err;
  write_file(dir + "/npy/y.npy", "garbage");
  const auto bad = run_parafit("fit --data '" + dir + "/npy' --model poly:1", dir);
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(contains(bad.err, "y.npy: not a .npy file")) << bad.err;
}

}  // namespace
}  // namespace parafit::testing
