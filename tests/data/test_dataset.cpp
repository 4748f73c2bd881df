// tests/data/test_dataset.cpp — the columnar table.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "parafit/dataset.h"
#include "parafit/error.h"

namespace parafit {
namespace {

std::string error_of(auto&& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Dataset, StartsEmpty) {
  const Dataset d;
  EXPECT_EQ(d.rows(), 0u);
  EXPECT_EQ(d.num_columns(), 0u);
  EXPECT_TRUE(d.source().empty());
  EXPECT_FALSE(d.find("x").has_value());
}

TEST(Dataset, AddsAndFindsColumns) {
  Dataset d;
  d.add_column("x", {1.0, 2.0, 3.0});
  d.add_column("y", {-1.5, 0.0, 2.25});
  EXPECT_EQ(d.rows(), 3u);
  EXPECT_EQ(d.num_columns(), 2u);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(d.find("x"), 0u);
  EXPECT_EQ(d.find("y"), 1u);
  EXPECT_FALSE(d.find("z").has_value());
  EXPECT_FALSE(d.find("X").has_value());  // names are case-sensitive

  const auto y = d.column("y");
  ASSERT_EQ(y.size(), 3u);
  EXPECT_EQ(y[0], -1.5);
  EXPECT_EQ(y[2], 2.25);
  EXPECT_EQ(d.column(0)[1], 2.0);
  EXPECT_EQ(d.column(1).data(), y.data());
}

TEST(Dataset, ColumnIndexOutOfRangeThrows) {
  Dataset d;
  d.add_column("x", {1.0});
  EXPECT_THROW((void)d.column(std::size_t{1}), std::out_of_range);
}

TEST(Dataset, EmptyColumnsAreAllowedWhileLengthsAgree) {
  Dataset d;
  d.add_column("x", {});
  d.add_column("y", {});
  EXPECT_EQ(d.rows(), 0u);
  EXPECT_EQ(d.num_columns(), 2u);
  EXPECT_EQ(error_of([&] { d.add_column("z", {1.0}); }),
            "column 'z' has 1 rows but the dataset has 0");
}

TEST(Dataset, RejectsDuplicateName) {
  Dataset d;
  d.add_column("x", {1.0, 2.0});
  EXPECT_EQ(error_of([&] { d.add_column("x", {3.0, 4.0}); }), "duplicate column name 'x'");
  EXPECT_EQ(d.num_columns(), 1u);
  EXPECT_EQ(d.column("x")[0], 1.0);  // the first column is untouched
}

TEST(Dataset, RejectsLengthMismatch) {
  Dataset d;
  d.add_column("x", {1.0, 2.0, 3.0});
  EXPECT_EQ(error_of([&] { d.add_column("y", {1.0, 2.0}); }),
            "column 'y' has 2 rows but the dataset has 3");
  EXPECT_EQ(d.num_columns(), 1u);
  EXPECT_EQ(d.rows(), 3u);
}

TEST(Dataset, MissingColumnListsExistingOnes) {
  Dataset d;
  d.add_column("x", {1.0});
  d.add_column("y", {2.0});
  EXPECT_EQ(error_of([&] { (void)d.column("z"); }), "no column named 'z'; columns are: x, y");
  d.set_source("data.csv");
  EXPECT_EQ(error_of([&] { (void)d.column("z"); }),
            "data.csv: no column named 'z'; columns are: x, y");
}

TEST(Dataset, MissingColumnInEmptyDataset) {
  const Dataset d;
  EXPECT_EQ(error_of([&] { (void)d.column("x"); }),
            "no column named 'x'; the dataset has no columns");
}

TEST(Dataset, SourceIsKeptAndPrefixesErrors) {
  Dataset d;
  d.set_source("runs/a.csv");
  EXPECT_EQ(d.source(), "runs/a.csv");
  d.add_column("x", {1.0});
  EXPECT_EQ(error_of([&] { d.add_column("x", {1.0}); }),
            "runs/a.csv: duplicate column name 'x'");
}

}  // namespace
TEST(Dataset, AViewBorrowsItsValuesAndCopiesAreViewsToo) {
  const std::vector<double> owner = {1.5, 2.5, 3.5};
  Dataset d;
  d.add_column("y", {7, 8, 9});
  d.add_column_view("x", owner);
  EXPECT_EQ(d.column("x").data(), owner.data());  // no copy
  EXPECT_EQ(d.column(1).size(), 3u);
  const Dataset copy = d;
  EXPECT_EQ(copy.column("x").data(), owner.data());
  EXPECT_NE(copy.column("y").data(), d.column("y").data());  // an owned column is copied
  EXPECT_THROW(d.add_column_view("x", owner), Error);
  EXPECT_THROW(d.add_column_view("z", std::span<const double>(owner).first(2)), Error);
  Dataset moved = d;
  const std::vector<std::vector<double>> released = moved.release_columns();
  ASSERT_EQ(released.size(), 2u);
  EXPECT_EQ(released[1], owner);  // copied out
  EXPECT_NE(released[1].data(), owner.data());
  EXPECT_EQ(moved.rows(), 0u);
  Dataset empty;
  empty.add_column_view("e", std::span<const double>());
  EXPECT_EQ(empty.rows(), 0u);
  EXPECT_TRUE(empty.column("e").empty());
}

}  // namespace parafit
