// nist_problem.h — reads the NIST StRD nonlinear-regression .dat files (tests/data/nist/) and
// computes NIST's accuracy measure, the log relative error (LRE).
//
// The files share one fixed layout (see tests/data/nist/README.md): a header whose "File Format"
// block gives the line ranges of the parameter table and of the data, a model block with the
// formula in Fortran-like notation, a parameter table (name = start1 start2 certified sd), four
// summary lines (certified RSS, residual standard deviation, degrees of freedom, observations),
// and a data block headed by "Data:  y  x" (response first, then predictors). Lines end in CRLF.
//
// This is test/benchmark code, not part of the parafit library.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parafit/dataset.h"

namespace nist {

struct NistParameter {
  std::string name;        // "b1"
  double start1 = 0;       // "Start 1": usually far from the solution
  double start2 = 0;       // "Start 2": usually closer
  double certified = 0;    // certified estimate (11 significant digits)
  double certified_sd = 0; // certified standard deviation (standard error) of the estimate
};

struct NistProblem {
  std::string name;         // "Misra1a", from "Dataset Name:"
  std::string source;       // the path it was read from (for messages)
  std::string difficulty;   // "Lower", "Average" or "Higher"
  std::string data_kind;    // "Observed" or "Generated"
  std::string model_class;  // "Exponential Class", "Rational Class (cubic/cubic)", ...

  // The model as NIST writes it, whitespace collapsed to single blanks and the error term "+ e"
  // removed: response "y" (Nelson: "log[y]"), right-hand side "b1*(1-exp[-b2*x])".
  std::string model_response;
  std::string model_rhs;
  // Constants the model block defines before the formula (Roszman1: pi = 3.14159...).
  std::vector<std::pair<std::string, double>> constants;

  std::vector<NistParameter> parameters;
  double certified_rss = 0;          // "Residual Sum of Squares"
  double certified_residual_sd = 0;  // "Residual Standard Deviation"
  int degrees_of_freedom = 0;       // as the file says (Rat43.dat: 9, an erratum for 11)
  std::size_t observations = 0;

  // Column names from the data header ("y", "x"; Nelson "y", "x1", "x2"), response first, and the
  // data column by column: data[c][i] is column c at observation i.
  std::vector<std::string> columns;
  std::vector<std::vector<double>> data;

  std::size_t rows() const { return data.empty() ? 0 : data.front().size(); }
  // Names of the predictors: every column after the response.
  std::vector<std::string> predictors() const;
  // Start values (start = 1 or 2) by parameter name, or the certified values (start = 0).
  std::vector<std::pair<std::string, double>> start_values(int start) const;
  std::vector<double> certified_values() const;
  // The data as a parafit Dataset with the file's column names.
  parafit::Dataset dataset() const;
};

// Parses the text of a .dat file. `source` names it in error messages. Throws parafit::Error with
// "source:line: what is wrong" for a malformed file.
NistProblem parse_nist_problem(std::string_view text, const std::string& source);
// Reads and parses a .dat file. Throws parafit::Error if it cannot be read or is malformed.
NistProblem read_nist_problem(const std::string& path);

// The log relative error -log10(|estimate - certified| / |certified|): about the number of leading
// significant digits that agree. Capped at `digits` (the certified digits; 11 in these files, and
// the value for an exact match); below 0, and for a non-finite estimate, 0. For certified == 0 the
// absolute error is used instead.
double lre(double estimate, double certified, double digits = 11);

}  // namespace nist
