// End-to-end tests of `parafit batch`: the three layouts give the same fits, a fit equals
// `parafit fit` on its rows, the output formats, per-fit statuses, and usage errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

constexpr int kFits = 12, kPoints = 20;

// Every digit, so the CSV, the .npy and the fit read the same doubles.
std::string fmt_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A decaying curve per fit with a deterministic wobble for noise.
double value(int k, int i) {
  const double a = 2.0 + 0.1 * k, b = 0.3 + 0.02 * k, c = 0.5;
  return a * std::exp(-b * i) + c + 0.01 * std::sin(12.9898 * (k * kPoints + i));
}

std::string write_long(const std::string& dir) {
  std::ostringstream s;
  s << "grp,x,y\n";
  // Rows of the groups interleaved: fits are made by group value, in order of first appearance.
  for (int i = 0; i < kPoints; ++i)
    for (int k = 0; k < kFits; ++k) s << 100 + k << "," << i << "," << fmt_double(value(k, i)) << "\n";
  write_file(dir + "/long.csv", s.str());
  return dir + "/long.csv";
}

std::string write_wide(const std::string& dir) {
  std::ostringstream s;
  for (int i = 0; i < kPoints; ++i) s << (i ? "," : "") << "y" << i;
  s << "\n";
  for (int k = 0; k < kFits; ++k) {
    for (int i = 0; i < kPoints; ++i) s << (i ? "," : "") << fmt_double(value(k, i));
    s << "\n";
  }
  write_file(dir + "/wide.csv", s.str());
  return dir + "/wide.csv";
}

// A 2-D float64 .npy file written by hand (numpy's format 1.0, C order): kFits x kPoints of at(k, i).
template <class At>
std::string write_npy(const std::string& path, const At& at, int rows = kFits, int cols = kPoints) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  for (int k = 0; k < rows; ++k)
    for (int i = 0; i < cols; ++i) {
      const double v = std::stod(fmt_double(at(k, i)));
      char b[8];
      std::memcpy(b, &v, 8);
      bytes.append(b, 8);
    }
  write_file(path, bytes);
  return path;
}

std::string write_matrix(const std::string& dir) {
  return write_npy(dir + "/m.npy", [](int k, int i) { return value(k, i); });
}

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

TEST(CliBatch, TheThreeLayoutsGiveTheSameFits) {
  const auto dir = scratch_dir();
  const auto lng = run_parafit("batch --data '" + write_long(dir) + "' --group grp --model exp-decay --threads 2", dir);
  ASSERT_EQ(lng.code, 0) << lng.err;
  EXPECT_TRUE(contains(lng.err, "12 fits: 12 converged")) << lng.err;
  const auto wide = run_parafit("batch --data '" + write_wide(dir) + "' --y-columns y0..y19 --x-values 0:19 "
                                "--model exp-decay --out '" + dir + "/wide_out.csv'", dir);
  ASSERT_EQ(wide.code, 0) << wide.err;
  const auto mat = run_parafit("batch --data '" + write_matrix(dir) + "' --model exp-decay --out '" + dir + "/m.csv'",
                               dir);
  ASSERT_EQ(mat.code, 0) << mat.err;
  const auto a = csv_rows(lng.out), b = csv_rows(read_file(dir + "/wide_out.csv")), c = csv_rows(read_file(dir + "/m.csv"));
  ASSERT_EQ(a.size(), std::size_t(kFits + 1));
  EXPECT_EQ(a[0], (std::vector<std::string>{"id", "status", "points", "iterations", "chi2", "a", "b", "c", "se_a",
                                            "se_b", "se_c"}));
  ASSERT_EQ(b.size(), a.size());
  ASSERT_EQ(c.size(), a.size());
  for (int k = 1; k <= kFits; ++k) {
    EXPECT_EQ(a[std::size_t(k)][0], std::to_string(100 + k - 1));  // the group value
    EXPECT_EQ(b[std::size_t(k)][0], std::to_string(k - 1));        // the row number
    // Everything after the id agrees to the last digit.
    EXPECT_EQ(std::vector<std::string>(a[std::size_t(k)].begin() + 1, a[std::size_t(k)].end()),
              std::vector<std::string>(b[std::size_t(k)].begin() + 1, b[std::size_t(k)].end()));
    EXPECT_EQ(b[std::size_t(k)], c[std::size_t(k)]);
  }
}

// A weight per point, 0 for some: the wide format's --weight-columns and the long format's
// --weights give the same fits, and a fit equals `parafit fit --weights` on its rows.
double weight(int k, int i) { return (i + k) % 7 == 0 ? 0.0 : 0.5 + 0.25 * ((i * 3 + k) % 5); }

TEST(CliBatch, WeightsInTheWideAndLongFormatsAgreeWithFit) {
  const auto dir = scratch_dir();
  std::ostringstream lng, wide, one;
  lng << "grp,x,y,w\n";
  one << "x,y,w\n";
  for (int k = 0; k < kFits; ++k)
    for (int i = 0; i < kPoints; ++i) {
      lng << k << "," << i << "," << fmt_double(value(k, i)) << "," << fmt_double(weight(k, i)) << "\n";
      if (k == 3) one << i << "," << fmt_double(value(k, i)) << "," << fmt_double(weight(k, i)) << "\n";
    }
  for (int i = 0; i < kPoints; ++i) wide << "y" << i << ",";
  for (int i = 0; i < kPoints; ++i) wide << "w" << i << (i + 1 < kPoints ? "," : "\n");
  for (int k = 0; k < kFits; ++k) {
    for (int i = 0; i < kPoints; ++i) wide << fmt_double(value(k, i)) << ",";
    for (int i = 0; i < kPoints; ++i) wide << fmt_double(weight(k, i)) << (i + 1 < kPoints ? "," : "\n");
  }
  write_file(dir + "/lw.csv", lng.str());
  write_file(dir + "/ww.csv", wide.str());
  write_file(dir + "/one.csv", one.str());
  const auto a = run_parafit("batch --data '" + dir + "/lw.csv' --group grp --weights w --model exp-decay", dir);
  ASSERT_EQ(a.code, 0) << a.err;
  const auto b = run_parafit("batch --data '" + dir + "/ww.csv' --y-columns y0..y19 --weight-columns w0..w19 "
                             "--model exp-decay", dir);
  ASSERT_EQ(b.code, 0) << b.err;
  const auto u = run_parafit("batch --data '" + dir + "/ww.csv' --y-columns y0..y19 --model exp-decay", dir);
  ASSERT_EQ(u.code, 0) << u.err;
  const auto ra = csv_rows(a.out), rb = csv_rows(b.out), ru = csv_rows(u.out);
  ASSERT_EQ(ra.size(), std::size_t(kFits + 1));
  ASSERT_EQ(rb.size(), ra.size());
  for (std::size_t k = 1; k < ra.size(); ++k) {
    EXPECT_EQ(ra[k], rb[k]);  // ids are 0.. in both
    EXPECT_NE(rb[k][5], ru[k][5]);  // the weights changed the estimates
  }
  // A matrix with a weights matrix of its shape gives the same fits.
  const auto m = run_parafit("batch --data '" + write_matrix(dir) + "' --weights '" +
                             write_npy(dir + "/w.npy", [](int k, int i) { return weight(k, i); }) +
                             "' --model exp-decay", dir);
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(csv_rows(m.out), rb);
  const auto f = run_parafit("fit --data '" + dir + "/one.csv' --model exp-decay --weights w --json '" + dir +
                             "/one.json'", dir);
  ASSERT_EQ(f.code, 0) << f.err;
  const json fit = json::parse(read_file(dir + "/one.json"));
  EXPECT_EQ(rb[4][2], std::to_string(kPoints - 3));  // points with a non-zero weight
  int column = 5;
  for (const auto& p : fit["parameters"]) EXPECT_EQ(std::stod(rb[4][std::size_t(column++)]), p["estimate"].get<double>());
}

TEST(CliBatch, AFitEqualsParafitFitOnItsRows) {
  const auto dir = scratch_dir();
  std::ostringstream one;
  one << "x,y\n";
  for (int i = 0; i < kPoints; ++i) one << i << "," << fmt_double(value(5, i)) << "\n";
  write_file(dir + "/one.csv", one.str());
  const auto f = run_parafit("fit --data '" + dir + "/one.csv' --model exp-decay --json '" + dir + "/one.json'", dir);
  ASSERT_EQ(f.code, 0) << f.err;
  const json fit = json::parse(read_file(dir + "/one.json"));
  const auto r = run_parafit("batch --data '" + write_wide(dir) + "' --y-columns y0..y19 --model exp-decay --out '" +
                                 dir + "/r.jsonl'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(read_file(dir + "/r.jsonl"));
  std::string line;
  for (int k = 0; k <= 5; ++k) std::getline(lines, line);
  const json row = json::parse(line);
  EXPECT_EQ(row["id"], "5");
  EXPECT_EQ(row["status"], "converged");
  EXPECT_EQ(row["points"], kPoints);
  for (const auto& p : fit["parameters"]) {
    const std::string name = p["name"];
    EXPECT_EQ(row["estimates"][name].get<double>(), p["estimate"].get<double>()) << name;
    EXPECT_NEAR(row["std_errors"][name].get<double>(), p["std_error"].get<double>(),
                1e-8 * p["std_error"].get<double>()) << name;
  }
}

TEST(CliBatch, NpyOutputAndItsColumnList) {
  const auto dir = scratch_dir();
  const auto r = run_parafit("batch --data '" + write_matrix(dir) + "' --model exp-decay --out '" + dir + "/r.npy'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(dir + "/r.npy.columns.txt"), "id\nstatus\npoints\niterations\nchi2\na\nb\nc\nse_a\nse_b\nse_c\n");
  const std::string bytes = read_file(dir + "/r.npy");
  EXPECT_TRUE(contains(bytes.substr(0, 128), "'shape': (12, 11)")) << bytes.substr(0, 128);
  EXPECT_EQ(bytes.size(), 128u + 12u * 11u * 8u);
}

TEST(CliBatch, BadGroupsGetTheirStatusAndTheBatchGoesOn) {
  const auto dir = scratch_dir();
  std::ostringstream s;
  s << "g,x,y\n";
  for (int i = 0; i < kPoints; ++i) s << "1," << i << "," << fmt_double(value(1, i)) << "\n";
  s << "2,0,1.5\n2,1,1.2\n";  // two points for three parameters
  for (int i = 0; i < kPoints; ++i) s << "3," << i << "," << fmt_double(value(3, i)) << "\n";
  write_file(dir + "/bad.csv", s.str());
  const auto r = run_parafit("batch --data '" + dir + "/bad.csv' --group g --model exp-decay", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "3 fits: 2 converged, 1 too-few-points")) << r.err;
  const auto rows = csv_rows(r.out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[2][1], "too-few-points");
  EXPECT_EQ(rows[2][2], "2");
  EXPECT_EQ(rows[3][1], "converged");
}

TEST(CliBatch, PoissonMleAndStartValues) {
  const auto dir = scratch_dir();
  std::ostringstream s;
  s << "y0,y1,y2,y3,y4,y5,y6,y7\n3,5,4,6,2,5,4,3\n10,12,9,11,13,8,10,11\n";
  write_file(dir + "/counts.csv", s.str());
  const auto r = run_parafit("batch --data '" + dir + "/counts.csv' --y-columns y0..y7 --model poly:0 "
                             "--estimator poisson-mle --start b0=1", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = csv_rows(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][4], "deviance");
  // A constant's MLE is the mean, to LM's stopping precision (a relative decrease of the deviance
  // below 1e-15 stops it within ~sqrt(1e-15) standard errors).
  EXPECT_NEAR(std::stod(rows[1][5]), 4.0, 1e-7);
  EXPECT_NEAR(std::stod(rows[2][5]), 10.5, 1e-7);
  EXPECT_NEAR(std::stod(rows[1][6]), std::sqrt(4.0 / 8), 1e-7);  // sqrt(mean / n)
  write_file(dir + "/starts.csv", "b0\n2\n20\n");
  const auto f = run_parafit("batch --data '" + dir + "/counts.csv' --y-columns y0..y7 --model poly:0 "
                             "--estimator poisson-mle --start-file '" + dir + "/starts.csv'", dir);
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_NEAR(std::stod(csv_rows(f.out)[2][5]), 10.5, 1e-7);
}

TEST(CliBatch, UsageErrorsNameTheFlag) {
  const auto dir = scratch_dir();
  const std::string wide = write_wide(dir), lng = write_long(dir);
  const auto expect = [&](const std::string& args, int code, const std::string& part) {
    const auto r = run_parafit("batch " + args, dir);
    EXPECT_EQ(r.code, code) << args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, part)) << args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  };
  expect("--data '" + wide + "' --model exp-decay", 2, "--group COL (long format), --y-columns");
  expect("--data '" + lng + "' --model exp-decay --group grp --y-columns y0..y3", 2, "give one of");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..y19 --x-values 0:5", 2, "--x-values gives 6 values");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..x19", 2, "--y-columns: 'y0..x19' is not a column");
  expect("--data '" + wide + "' --model exp-dcay --y-columns y0..y19", 2, "--model: unknown model");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..y19 --out r.txt", 2, "name a .csv, .jsonl or .npy");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..y19 --start q=1", 2, "no parameter 'q'");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..y25", 1, "y20");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..y19 --weights w", 2, "takes --weight-columns");
  const std::string mat = write_matrix(dir);
  expect("--data '" + mat + "' --model exp-decay --weights w", 2, "give a .npy file of its shape");
  write_npy(dir + "/narrow.npy", [](int, int) { return 1.0; }, kFits, kPoints - 1);
  expect("--data '" + mat + "' --model exp-decay --weights '" + dir + "/narrow.npy'", 2, "is 12 x 19; the data");
  expect("--data '" + lng + "' --model exp-decay --group grp --weight-columns y0..y3", 2,
         "--weight-columns is for the wide format");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..y19 --weight-columns y0..y3", 2,
         "--weight-columns names 4 columns for the 20 of --y-columns");
  expect("--data '" + lng + "' --model exp-decay --group grp --estimator bogus", 2, "--estimator");
  write_file(dir + "/s.csv", "a\n1\n2\n");
  expect("--data '" + wide + "' --model exp-decay --y-columns y0..y19 --start-file '" + dir + "/s.csv'", 2,
         "has 2 rows for 12 fits");
}

}  // namespace
}  // namespace parafit::testing

namespace parafit::testing {
namespace {

TEST(CliGlobalFit, SharedAndPerGroupParameters) {
  const auto dir = scratch_dir();
  std::ostringstream s;
  s << "set,x,y\n";
  for (int g = 0; g < 4; ++g)
    for (int i = 0; i < 25; ++i) {
      const double x = 0.25 * i, a = 2.0 + g, c = 0.1 * g;
      s << g << "," << x << "," << fmt_double(a * std::exp(-0.7 * x) + c + 0.01 * std::sin(7.1 * (g * 25 + i))) << "\n";
    }
  write_file(dir + "/g.csv", s.str());
  const auto r = run_parafit("fit --data '" + dir + "/g.csv' --model exp-decay --group set --shared b --json '" + dir +
                                 "/g.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "4 groups")) << r.out;
  EXPECT_TRUE(contains(r.out, "Converged: yes")) << r.out;
  const json j = json::parse(read_file(dir + "/g.json"));
  EXPECT_EQ(j["shared"][0]["name"], "b");
  EXPECT_NEAR(j["shared"][0]["estimate"].get<double>(), 0.7, 0.01);
  ASSERT_EQ(j["groups"].size(), 4u);
  EXPECT_NEAR(j["groups"][3]["estimates"]["a"].get<double>(), 5.0, 0.05);
  EXPECT_EQ(j["df"].get<double>(), 100.0 - 1 - 4 * 2);
  EXPECT_GT(j["r_squared"].get<double>(), 0.999);
  EXPECT_NEAR(j["aic"].get<double>(), -2 * j["log_likelihood"].get<double>() + 2 * (1 + 4 * 2 + 1), 1e-9);
  EXPECT_TRUE(contains(r.out, "R-squared: ")) << r.out;
  const auto half = run_parafit("fit --data '" + dir + "/g.csv' --model exp-decay --group set", dir);
  EXPECT_EQ(half.code, 2);
  EXPECT_TRUE(contains(half.err, "needs both --group")) << half.err;
  const auto all = run_parafit("fit --data '" + dir + "/g.csv' --model exp-decay --group set --shared a,b,c", dir);
  EXPECT_EQ(all.code, 2);
  EXPECT_TRUE(contains(all.err, "every parameter is shared")) << all.err;
  // --fix holds a parameter in every group: c at 0 leaves a and b; the JSON names it.
  const auto held = run_parafit("fit --data '" + dir + "/g.csv' --model exp-decay --group set --shared b --fix c=0 "
                                "--json '" + dir + "/h.json'", dir);
  ASSERT_EQ(held.code, 0) << held.err;
  EXPECT_TRUE(contains(held.out, "Fixed in every group: c = 0")) << held.out;
  const json h = json::parse(read_file(dir + "/h.json"));
  EXPECT_EQ(h["fixed"][0]["name"], "c");
  EXPECT_EQ(h["df"].get<double>(), 100.0 - 1 - 4 * 1);
  EXPECT_FALSE(h["groups"][0]["estimates"].contains("c"));
  EXPECT_GT(h["rss"].get<double>(), j["rss"].get<double>());
  const auto both = run_parafit("fit --data '" + dir + "/g.csv' --model exp-decay --group set --shared b --fix b=1", dir);
  EXPECT_EQ(both.code, 2);
  EXPECT_TRUE(contains(both.err, "'b' is both shared and fixed")) << both.err;
  // --bounds: b held below its value, c of group 0 (0.0 in the data) at its lower bound 0.05.
  const auto bounded = run_parafit("fit --data '" + dir + "/g.csv' --model exp-decay --group set --shared b "
                                   "--bounds b=:0.6,c=0.05: --json '" + dir + "/b.json'", dir);
  ASSERT_EQ(bounded.code, 0) << bounded.err;
  EXPECT_TRUE(contains(bounded.out, "(at bound)")) << bounded.out;
  const json bj = json::parse(read_file(dir + "/b.json"));
  EXPECT_EQ(bj["shared"][0]["estimate"].get<double>(), 0.6);
  EXPECT_TRUE(bj["shared"][0]["at_bound"].get<bool>());
  EXPECT_TRUE(bj["shared"][0]["std_error"].is_null());
  EXPECT_EQ(bj["groups"][0]["at_bound"], json::array({"c"}));
  EXPECT_EQ(bj["groups"][0]["estimates"]["c"].get<double>(), 0.05);
  const auto saved = run_parafit("fit --data '" + dir + "/g.csv' --model exp-decay --group set --shared b "
                                 "--save '" + dir + "/m.json'", dir);
  EXPECT_EQ(saved.code, 2);
  EXPECT_TRUE(contains(saved.err, "--save is not available with --group/--shared")) << saved.err;
}

}  // namespace
}  // namespace parafit::testing

#ifdef PARAFIT_MPIEXEC
namespace parafit::testing {
namespace {

TEST(CliMpi, BatchGivesTheSameBytesOnOneTwoAndThreeRanks) {
  const auto dir = scratch_dir();
  const std::vector<std::string> runs = {
      "--data '" + write_matrix(dir) + "' --model exp-decay",
      "--data '" + write_wide(dir) + "' --y-columns y0..y19 --model exp-decay --estimator lse",
      "--data '" + write_long(dir) + "' --group grp --model exp-decay --threads 2",
      "--data '" + write_long(dir) + "' --group grp --model exp-decay --precision float32",
  };
  for (std::size_t c = 0; c < runs.size(); ++c) {
    std::string first;
    for (const int ranks : {1, 2, 3}) {
      const std::string out = dir + "/r" + std::to_string(c) + "_" + std::to_string(ranks) + ".csv";
      const auto r = run_mpi(ranks, "batch " + runs[c] + " --out '" + out + "'", dir);
      ASSERT_EQ(r.code, 0) << runs[c] << " on " << ranks << " ranks\n" << r.err;
      EXPECT_TRUE(contains(r.err, "12 fits: 12 converged")) << r.err;
      EXPECT_TRUE(contains(r.err, std::to_string(ranks) + " rank(s)")) << r.err;
      const std::string text = read_file(out);
      if (ranks == 1) first = text;
      else EXPECT_EQ(text, first) << runs[c] << " on " << ranks << " ranks";
    }
    EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), kFits + 1);
  }
}

TEST(CliMpi, GlobalFitGivesTheSameJsonOnOneTwoAndThreeRanks) {
  const auto dir = scratch_dir();
  const std::string data = std::string(PARAFIT_EXAMPLES_DIR) + "/kinetics.csv";
  std::string first;
  for (const int ranks : {1, 2, 3}) {
    const std::string js = dir + "/g" + std::to_string(ranks) + ".json";
    const auto r = run_mpi(ranks, "fit --data '" + data + "' --model exp-decay --x t --y signal --group run --shared b "
                                  "--json '" + js + "'", dir);
    ASSERT_EQ(r.code, 0) << ranks << " ranks\n" << r.err;
    EXPECT_TRUE(contains(r.out, std::to_string(ranks) + " rank(s)")) << r.out;
    const std::string text = read_file(js);
    if (ranks == 1) first = text;
    else EXPECT_EQ(text, first) << ranks << " ranks";
  }
  EXPECT_TRUE(contains(first, "\"id\": \"4\"")) << first;
}

TEST(CliMpi, GlobalFitABadGroupOnOneRankStopsEveryRank) {
  const auto dir = scratch_dir();
  write_file(dir + "/k.csv", read_file(std::string(PARAFIT_EXAMPLES_DIR) + "/kinetics.csv") + "5,0.5,1.0\n");
  const auto r = run_mpi(3, "fit --data '" + dir + "/k.csv' --model exp-decay --x t --y signal --group run --shared b",
                         dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "rank 2: group '5' has 1 row(s)")) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(CliMpi, BatchABadLineOnOneRankStopsEveryRank) {
  const auto dir = scratch_dir();
  std::string text = read_file(write_wide(dir));
  text.replace(text.rfind(',') + 1, std::string::npos, "oops\n");  // the last row's last field
  write_file(dir + "/bad.csv", text);
  const auto r = run_mpi(3, "batch --data '" + dir + "/bad.csv' --y-columns y0..y19 --model exp-decay", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "bad.csv:13")) << r.err;
  EXPECT_TRUE(contains(r.err, "oops")) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace parafit::testing
#endif

namespace parafit::testing {
namespace {

TEST(CliBatch, AMissingValueFailsOnlyItsFit) {
  const auto dir = scratch_dir();
  std::ostringstream wide;
  wide << "y0,y1,y2,y3,y4,y5\n";
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 6; ++i) {
      if (i) wide << ",";
      if (k == 1 && i == 2) wide << "NaN";
      else if (k == 2 && i == 4) wide << "";  // an empty field
      else wide << fmt_double(1.0 + 0.5 * i + 0.01 * std::sin(3.0 * (k * 6 + i)));
    }
    wide << "\n";
  }
  write_file(dir + "/w.csv", wide.str());
  const auto r = run_parafit("batch --data '" + dir + "/w.csv' --y-columns y0..y5 --model poly:1", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "4 fits: 2 converged, 2 non-finite")) << r.err;
  const auto rows = csv_rows(r.out);
  EXPECT_EQ(rows[2][1], "non-finite");
  EXPECT_EQ(rows[3][1], "non-finite");
  // --drop-missing drops those rows instead: here, the fits.
  const auto d = run_parafit("batch --data '" + dir + "/w.csv' --y-columns y0..y5 --model poly:1 --drop-missing", dir);
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_TRUE(contains(d.err, "2 fits: 2 converged")) << d.err;
  // The long format: a NaN response in one group.
  write_file(dir + "/l.csv", "g,x,y\n1,0,1\n1,1,2\n1,2,3.1\n2,0,1\n2,1,nan\n2,2,3\n3,0,0\n3,1,1\n3,2,2.1\n");
  const auto l = run_parafit("batch --data '" + dir + "/l.csv' --group g --model poly:1", dir);
  ASSERT_EQ(l.code, 0) << l.err;
  EXPECT_TRUE(contains(l.err, "3 fits: 2 converged, 1 non-finite")) << l.err;
}

}  // namespace
}  // namespace parafit::testing

namespace parafit::testing {
namespace {

TEST(CliBatch, ALooserToleranceTakesFewerIterations) {
  const auto dir = scratch_dir();
  const std::string m = write_matrix(dir);
  const auto tight = run_parafit("batch --data '" + m + "' --model exp-decay", dir);
  const auto loose = run_parafit("batch --data '" + m + "' --model exp-decay --tolerance 1e-4", dir);
  ASSERT_EQ(tight.code, 0) << tight.err;
  ASSERT_EQ(loose.code, 0) << loose.err;
  const auto a = csv_rows(tight.out), b = csv_rows(loose.out);
  ASSERT_EQ(a.size(), b.size());
  int ia = 0, ib = 0;
  for (std::size_t k = 1; k < a.size(); ++k) {
    ia += std::stoi(a[k][3]);
    ib += std::stoi(b[k][3]);
    EXPECT_EQ(b[k][1], "converged");
    // Stopped earlier, the estimates still agree well inside their standard errors.
    for (std::size_t j = 5; j < 8; ++j)
      EXPECT_NEAR(std::stod(b[k][j]), std::stod(a[k][j]), 0.01 * std::stod(a[k][j + 3])) << k << " " << j;
  }
  EXPECT_LT(ib, ia);
  const auto bad = run_parafit("batch --data '" + m + "' --model exp-decay --tolerance -1", dir);
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(contains(bad.err, "--tolerance")) << bad.err;
}

// --precision float32: the same layout and columns, estimates within a small part of their standard errors
// of the double fit's, the same bytes on 1 and 2 threads; formulas and tight tolerances refused
// with the flag named.
TEST(CliBatch, Float32FollowsTheDoubleFit) {
  const auto dir = scratch_dir();
  const std::string m = write_matrix(dir);
  const auto dbl = run_parafit("batch --data '" + m + "' --model exp-decay", dir);
  const auto f1 = run_parafit("batch --data '" + m + "' --model exp-decay --precision float32 --threads 1", dir);
  const auto f2 = run_parafit("batch --data '" + m + "' --model exp-decay --precision float32 --threads 2", dir);
  ASSERT_EQ(dbl.code, 0) << dbl.err;
  ASSERT_EQ(f1.code, 0) << f1.err;
  ASSERT_EQ(f2.code, 0) << f2.err;
  EXPECT_EQ(f1.out, f2.out);
  EXPECT_TRUE(contains(f1.err, "12 fits: 12 converged")) << f1.err;
  const auto a = csv_rows(dbl.out), b = csv_rows(f1.out);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a[0], b[0]);
  for (std::size_t k = 1; k < a.size(); ++k) {
    EXPECT_EQ(b[k][1], "converged");
    EXPECT_NEAR(std::stod(b[k][4]), std::stod(a[k][4]), 1e-3 * std::stod(a[k][4]));  // chi2
    for (std::size_t j = 5; j < 8; ++j)
      EXPECT_NEAR(std::stod(b[k][j]), std::stod(a[k][j]), 0.1 * std::stod(a[k][j + 3])) << k << " " << j;
  }
  const auto formula = run_parafit("batch --data '" + m + "' --model 'a*exp(-b*x)+c' --params a,b,c --precision float32", dir);
  EXPECT_EQ(formula.code, 2);
  EXPECT_TRUE(contains(formula.err, "float32")) << formula.err;
  const auto tight = run_parafit("batch --data '" + m + "' --model exp-decay --precision float32 --tolerance 1e-9", dir);
  EXPECT_EQ(tight.code, 2);
  EXPECT_TRUE(contains(tight.err, "--tolerance 1e-09 with --precision float32")) << tight.err;
  EXPECT_TRUE(tight.out.empty());
  const auto bogus = run_parafit("batch --data '" + m + "' --model exp-decay --precision float16", dir);
  EXPECT_EQ(bogus.code, 2);
  EXPECT_TRUE(contains(bogus.err, "--precision")) << bogus.err;
}

}  // namespace
}  // namespace parafit::testing
