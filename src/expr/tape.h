// A compiled formula: two straight-line programs over registers and row buffers.
//
// Every value and every partial derivative of the formula is either uniform (the same for all rows:
// it depends on parameters and constants only) or varies by row. Uniform ones live in scalar
// registers and are computed once per evaluate() call by the scalar program; row-varying ones live
// in buffers of kChunk rows and are computed by the vector program, once per chunk of rows, each
// instruction one tight loop. A value's derivatives are kept only for the parameters it depends on,
// derivatives known at compile time (d(a*x)/da = x, d(x+c)/dc = 1) are aliases or constants, not
// instructions, and a buffer that ends up as the model value or a Jacobian column is written
// directly into the caller's f or J.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "expr/parser.h"
#include "parafit/model.h"

namespace parafit::expr {

inline constexpr std::size_t kChunk = 256;             // rows per pass of the vector program
inline constexpr std::size_t kMaxParameters = 1024;    // more is an error, not a slow model
inline constexpr std::size_t kMaxDerivatives = 1u << 20;  // (value, parameter) pairs in a tape
inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

// Where an operand lives: a scalar register, a row buffer, or nowhere (absent operand).
struct Ref {
  enum class Kind : std::uint8_t { kNone, kScalar, kVector };
  Kind kind = Kind::kNone;
  std::uint32_t index = 0;

  bool none() const { return kind == Kind::kNone; }
  bool vector() const { return kind == Kind::kVector; }
  friend bool operator==(const Ref&, const Ref&) = default;
};

// v = f(a, b) with partials pa = df/da and pb = df/db (each stored only if wanted).
using ValueKernel = void (*)(std::size_t n, const double* a, const double* b, double* v, double* pa,
                             double* pb);
// out = p*d (+ q*e): one derivative by the chain rule.
using DerivKernel = void (*)(std::size_t n, const double* p, const double* d, const double* q,
                             const double* e, double* out);

struct Instr {
  bool deriv_only = false;         // skipped when no Jacobian is wanted
  ValueKernel value = nullptr;     // stores the partials the Jacobian needs
  ValueKernel value_only = nullptr;  // same rule, same value bits, no partials stored
  DerivKernel deriv = nullptr;
  Ref in[4];                       // value: a, b; derivative: p, d, q, e
  std::uint32_t out[3] = {kNone, kNone, kNone};  // value: v, pa, pb; derivative: out
};

struct Tape {
  std::size_t num_parameters = 0;
  std::size_t num_inputs = 0;

  std::vector<double> registers;              // initial register file (constants set, rest 0)
  std::vector<std::uint32_t> param_register;  // theta[j] is loaded into registers[param_register[j]]
  std::vector<Instr> scalar_program;          // once per evaluate() call
  std::vector<Instr> vector_program;          // once per chunk of rows

  // Buffers: [0, num_inputs) are the input columns; the rest are scratch, each mapped to a slot of
  // kChunk doubles (slots are reused once a buffer is dead).
  std::vector<std::uint32_t> buffer_slot;
  std::uint32_t num_slots = 0;

  Ref value;                    // the model value
  std::vector<Ref> gradient;    // d value / d theta_j; kNone where it is identically 0
  std::uint32_t f_buffer = kNone;  // buffer computed straight into f
  std::vector<std::pair<std::uint32_t, std::uint32_t>> j_buffers;  // (j, buffer) computed into J
  std::vector<std::uint8_t> gradient_direct;  // per j: 1 if J column j is a j_buffer (no copy)

  // The Model::evaluate contract. Thread-safe: scratch memory is per thread.
  void evaluate(const double* theta, const RowBlock& block, double* f, double* J, std::size_t ldj) const;
};

// Compiles a resolved expression (names already turned into kParam/kInput). Throws FormulaError
// when the derivative program would exceed kMaxDerivatives.
Tape compile_tape(const Expression& e, std::size_t num_parameters, std::size_t num_inputs);

}  // namespace parafit::expr
