// libFuzzer target: compile_formula on arbitrary bytes, then evaluate whatever compiles.
//
// The contract under test: a bad formula is a parafit::Error, never a crash, hang, overflow, leak
// or undefined behaviour (the build adds AddressSanitizer and UBSan). Any other exception escapes
// and libFuzzer reports it as a crash. Evaluating the compiled tapes checks the code generator:
// buffer slots, aliases and redirected outputs all stay inside their memory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/formula.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  parafit::FormulaSpec spec;
  spec.text.assign(reinterpret_cast<const char*>(data), size);
  spec.columns = {"x", "y", "z", "x1"};
  parafit::CompiledFormula c;
  try {
    c = parafit::compile_formula(spec);
  } catch (const parafit::Error&) {
    return 0;
  }
  // 300 rows: more than one internal chunk of 256, and a ragged tail.
  constexpr std::size_t kRows = 300;
  std::vector<double> columns[4];
  for (std::size_t k = 0; k < 4; ++k)
    for (std::size_t i = 0; i < kRows; ++i) columns[k].push_back(-2.0 + 0.013 * double(i) + 0.5 * double(k));
  auto column = [&](const std::string& name) -> const double* {
    for (std::size_t k = 0; k < spec.columns.size(); ++k)
      if (spec.columns[k] == name) return columns[k].data();
    return nullptr;
  };
  std::vector<const double*> in;
  for (const std::string& name : c.inputs) in.push_back(column(name));
  const std::size_t p = c.model->num_parameters();
  const std::vector<double> theta(p, 0.75);
  std::vector<double> f(kRows), J(kRows * p);
  c.model->evaluate(theta.data(), parafit::RowBlock{kRows, in.data()}, f.data(), J.data(), kRows);
  c.model->evaluate(theta.data(), parafit::RowBlock{kRows, in.data()}, f.data(), nullptr, 0);
  if (c.response) {
    std::vector<const double*> rin;
    for (const std::string& name : c.response_columns) rin.push_back(column(name));
    c.response(parafit::RowBlock{kRows, rin.data()}, f.data());
  }
  try {
    c.model->initial_values({}, {});
  } catch (const parafit::Error&) {
  }
  return 0;
}
