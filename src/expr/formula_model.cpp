// compile_formula: parse, decide what each name is (column, parameter or constant), compile the
// tapes, and wrap the right-hand side in a Model.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numbers>
#include <unordered_map>
#include <unordered_set>

#include "expr/diagnostics.h"
#include "expr/parser.h"
#include "expr/tape.h"
#include "parafit/error.h"
#include "parafit/formula.h"

namespace parafit {
namespace {

using expr::FormulaError;
using expr::kNoPosition;

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

class FormulaModel final : public Model {
 public:
  FormulaModel(std::string name, std::string formula, std::vector<std::string> parameters, expr::Tape tape)
      : name_(std::move(name)), formula_(std::move(formula)), parameters_(std::move(parameters)),
        tape_(std::move(tape)) {}

  std::string name() const override { return name_; }
  std::string formula() const override { return formula_; }
  const std::vector<std::string>& parameter_names() const override { return parameters_; }
  std::size_t num_inputs() const override { return tape_.num_inputs; }

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    tape_.evaluate(theta, block, f, J, ldj);
  }

  // A formula says nothing about plausible values of its parameters, so there is no self-start.
  std::vector<double> initial_values(std::span<const std::span<const double>>,
                                     std::span<const double>) const override {
    throw usage_error(fmt::format("formula models need {} for every parameter; missing: {}", option_name("start"),
                            fmt::join(parameters_, ", ")));
  }

 private:
  std::string name_;
  std::string formula_;
  std::vector<std::string> parameters_;
  expr::Tape tape_;
};

// Decides what every name in the parsed formula is and rewrites the name nodes accordingly.
class Resolver {
 public:
  Resolver(const FormulaSpec& spec, expr::ParsedFormula& parsed) : spec_(spec), parsed_(parsed) {
    for (std::size_t i = 0; i < spec.columns.size(); ++i) columns_.try_emplace(spec.columns[i], i);
    for (const std::string& p : spec.parameters) {
      if (!listed_.emplace(p).second)
        throw FormulaError{kNoPosition, fmt::format("parameter '{}' is listed twice in {}", p, option_name("params"))};
      if (p == "pi" || p == "e")
        throw FormulaError{first_use(p), fmt::format("'{}' is a constant and cannot be a parameter ({})", p, option_name("params"))};
      if (columns_.contains(p))
        throw FormulaError{first_use(p), fmt::format("'{}' is a data column and cannot also be a parameter "
                                                     "({})", p, option_name("params"))};
    }
  }

  void run() {
    // Left side first: messages then come in the order of the text.
    resolve_lhs();
    resolve_rhs();
    check_parameters();
    choose_inputs();
  }

  std::vector<std::string> parameters;
  std::vector<std::string> inputs;
  std::vector<std::string> response_columns;

 private:
  std::string_view name_of(const expr::Node& n) const { return parsed_.names[n.index]; }

  // Where `name` is first used in the formula, or kNoPosition.
  std::size_t first_use(std::string_view name) const {
    for (const expr::Expression* e : {&parsed_.lhs, &parsed_.rhs})
      for (const expr::Node& n : e->nodes)
        if (n.op == expr::Op::kName && name_of(n) == name) return n.pos;
    return kNoPosition;
  }

  // pi and e: constants, unless a data column has that name, which would make the formula ambiguous.
  bool constant(expr::Node& n) const {
    const std::string_view name = name_of(n);
    if (name != "pi" && name != "e") return false;
    if (columns_.contains(name))
      throw FormulaError{n.pos, fmt::format("'{}' is both the constant {} and a data column; rename the "
                                            "column and write it with its new name", name, name)};
    n.op = expr::Op::kConst;
    n.value = name == "pi" ? std::numbers::pi : std::numbers::e;
    return true;
  }

  static std::uint32_t index_in(std::vector<std::string>& list, std::string_view name) {
    auto it = std::find(list.begin(), list.end(), name);
    if (it == list.end()) it = list.insert(list.end(), std::string(name));
    return static_cast<std::uint32_t>(it - list.begin());
  }

  void resolve_lhs() {
    for (expr::Node& n : parsed_.lhs.nodes) {
      if (n.op != expr::Op::kName || constant(n)) continue;
      const std::string_view name = name_of(n);
      if (!columns_.contains(name))
        throw FormulaError{n.pos, fmt::format("the response side (left of '~') may use only data columns and "
                                              "constants; '{}' is not a data column", name)};
      n.op = expr::Op::kInput;
      n.index = index_in(response_columns, name);
    }
  }

  void resolve_rhs() {
    for (expr::Node& n : parsed_.rhs.nodes) {
      if (n.op != expr::Op::kName || constant(n)) continue;
      const std::string_view name = name_of(n);
      if (columns_.contains(name)) {
        n.op = expr::Op::kInput;
        n.index = index_in(rhs_columns_, name);
        column_pos_.try_emplace(name, n.pos);
        continue;
      }
      if (!spec_.parameters.empty() && !listed_.contains(std::string(name))) {
        std::vector<std::string_view> known(spec_.columns.begin(), spec_.columns.end());
        known.insert(known.end(), spec_.parameters.begin(), spec_.parameters.end());
        std::string what = fmt::format("unknown name '{}': not a data column and not among the parameters "
                                       "({}: {})", name, option_name("params"), fmt::join(spec_.parameters, ", "));
        if (const std::string_view guess = expr::closest_name(name, known); !guess.empty())
          what += fmt::format(" (did you mean '{}'?)", guess);
        throw FormulaError{n.pos, what};
      }
      const std::size_t before = parameters.size();
      n.op = expr::Op::kParam;
      n.index = index_in(parameters, name);
      if (parameters.size() > before && parameters.size() > expr::kMaxParameters)
        throw FormulaError{n.pos, fmt::format("formula has more than {} parameters", expr::kMaxParameters)};
    }
  }

  // With --params, the order is the list's and every listed name must be used.
  void check_parameters() {
    if (!spec_.parameters.empty()) {
      for (const std::string& p : spec_.parameters)
        if (std::find(parameters.begin(), parameters.end(), p) == parameters.end())
          throw FormulaError{kNoPosition, fmt::format("parameter '{}' ({}) does not appear in the formula", p, option_name("params"))};
      std::vector<std::uint32_t> order(parameters.size());
      for (std::size_t i = 0; i < parameters.size(); ++i) {
        const auto it = std::find(spec_.parameters.begin(), spec_.parameters.end(), parameters[i]);
        order[i] = static_cast<std::uint32_t>(it - spec_.parameters.begin());
      }
      for (expr::Node& n : parsed_.rhs.nodes)
        if (n.op == expr::Op::kParam) n.index = order[n.index];
      parameters = spec_.parameters;
    }
    if (parameters.empty())
      throw FormulaError{kNoPosition, "formula has no parameters: every name in it is a data column or a constant"};
  }

  // With --x, the model reads exactly those columns in that order.
  void choose_inputs() {
    if (spec_.inputs.empty()) {
      inputs = rhs_columns_;
      return;
    }
    for (std::size_t k = 0; k < spec_.inputs.size(); ++k) {
      const std::string& x = spec_.inputs[k];
      if (!columns_.contains(x))
        throw FormulaError{kNoPosition, fmt::format("input column '{}' ({}) is not a data column", x, option_name("x"))};
      if (std::find(spec_.inputs.begin(), spec_.inputs.begin() + std::ptrdiff_t(k), x) !=
          spec_.inputs.begin() + std::ptrdiff_t(k))
        throw FormulaError{kNoPosition, fmt::format("input column '{}' is listed twice in {}", x, option_name("x"))};
      if (std::find(rhs_columns_.begin(), rhs_columns_.end(), x) == rhs_columns_.end())
        throw FormulaError{kNoPosition, fmt::format("input column '{}' ({}) is not used by the formula", x, option_name("x"))};
    }
    std::vector<std::uint32_t> order(rhs_columns_.size());
    for (std::size_t i = 0; i < rhs_columns_.size(); ++i) {
      const auto it = std::find(spec_.inputs.begin(), spec_.inputs.end(), rhs_columns_[i]);
      if (it == spec_.inputs.end())
        throw FormulaError{column_pos_.at(rhs_columns_[i]),
                           fmt::format("column '{}' is not among the input columns ({}: {})", rhs_columns_[i],
                                       option_name("x"), fmt::join(spec_.inputs, ", "))};
      order[i] = static_cast<std::uint32_t>(it - spec_.inputs.begin());
    }
    for (expr::Node& n : parsed_.rhs.nodes)
      if (n.op == expr::Op::kInput) n.index = order[n.index];
    inputs = spec_.inputs;
  }

  const FormulaSpec& spec_;
  expr::ParsedFormula& parsed_;
  std::unordered_map<std::string_view, std::size_t> columns_;
  std::unordered_set<std::string> listed_;
  std::vector<std::string> rhs_columns_;
  std::unordered_map<std::string_view, std::size_t> column_pos_;
};

CompiledFormula compile(const FormulaSpec& spec) {
  expr::ParsedFormula parsed = expr::parse(spec.text);
  Resolver r(spec, parsed);
  r.run();

  const std::string_view text = spec.text;
  const bool has_lhs = !parsed.lhs.empty();
  const std::string_view rhs_text = trim(has_lhs ? text.substr(parsed.tilde_pos + 1) : text);

  CompiledFormula out;
  out.inputs = r.inputs;
  out.model = std::make_shared<FormulaModel>(
      std::string(trim(text)), std::string(rhs_text), r.parameters,
      expr::compile_tape(parsed.rhs, r.parameters.size(), r.inputs.size()));
  if (has_lhs) {
    out.response_text = std::string(trim(text.substr(0, parsed.tilde_pos)));
    out.response_columns = r.response_columns;
    auto lhs = std::make_shared<const expr::Tape>(expr::compile_tape(parsed.lhs, 0, r.response_columns.size()));
    out.response = [lhs](const RowBlock& block, double* values) {
      lhs->evaluate(nullptr, block, values, nullptr, 0);
    };
  }
  return out;
}

}  // namespace

CompiledFormula compile_formula(const FormulaSpec& spec) {
  try {
    return compile(spec);
  } catch (const FormulaError& e) {
    throw usage_error(expr::format_error(spec.text, e.pos, e.what));
  }
}

bool looks_like_formula(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == ':' || c == '-';
    return !plain;
  });
}

}  // namespace parafit
