// Running a tape: the scalar program once per call, then the vector program over chunks of kChunk
// rows. Scratch memory is per thread (evaluate() is called concurrently on one model by the
// solver's threads) and grows to the largest tape a thread has run: no allocation per call once
// warm, and never inside the row loop.
#include <algorithm>
#include <vector>

#include "expr/tape.h"

namespace parafit::expr {
namespace {

struct Scratch {
  std::vector<double> registers;
  std::vector<double> slots;    // num_slots * kChunk
  std::vector<double*> buffer;  // where each buffer is for the current chunk
};

Scratch& thread_scratch() {
  thread_local Scratch s;
  return s;
}

inline const double* source(const Ref& r, const double* regs, double* const* buffer) {
  switch (r.kind) {
    case Ref::Kind::kScalar: return regs + r.index;
    case Ref::Kind::kVector: return buffer[r.index];
    default: return nullptr;
  }
}

// outputs_in_buffers: the vector program writes buffers, the scalar program registers.
inline void run(const Instr& in, std::size_t n, double* regs, double* const* buffer,
                bool outputs_in_buffers, bool with_jacobian) {
  auto target = [&](std::uint32_t o) -> double* {
    if (o == kNone) return nullptr;
    return outputs_in_buffers ? buffer[o] : regs + o;
  };
  if (in.deriv != nullptr) {
    in.deriv(n, source(in.in[0], regs, buffer), source(in.in[1], regs, buffer),
             source(in.in[2], regs, buffer), source(in.in[3], regs, buffer), target(in.out[0]));
  } else {
    (with_jacobian ? in.value : in.value_only)(n, source(in.in[0], regs, buffer),
                                               source(in.in[1], regs, buffer), target(in.out[0]),
                                               target(in.out[1]), target(in.out[2]));
  }
}

// out[0, n) = what r refers to (0 for an absent derivative).
void store(const Ref& r, std::size_t n, const double* regs, double* const* buffer, double* out) {
  switch (r.kind) {
    case Ref::Kind::kNone: std::fill_n(out, n, 0.0); break;
    case Ref::Kind::kScalar: std::fill_n(out, n, regs[r.index]); break;
    case Ref::Kind::kVector: std::copy_n(buffer[r.index], n, out); break;
  }
}

}  // namespace

void Tape::evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                    std::size_t ldj) const {
  const std::size_t n = block.size;
  if (n == 0) return;
  const bool with_j = J != nullptr;
  Scratch& s = thread_scratch();

  s.registers.assign(registers.begin(), registers.end());
  double* regs = s.registers.data();
  for (std::size_t j = 0; j < num_parameters; ++j) regs[param_register[j]] = theta[j];
  for (const Instr& in : scalar_program)
    if (with_j || !in.deriv_only) run(in, 1, regs, nullptr, false, with_j);

  if (s.slots.size() < std::size_t(num_slots) * kChunk) s.slots.resize(std::size_t(num_slots) * kChunk);
  s.buffer.resize(buffer_slot.size());
  double** buffer = s.buffer.data();
  for (std::size_t b = num_inputs; b < buffer_slot.size(); ++b)
    buffer[b] = buffer_slot[b] == kNone ? nullptr : s.slots.data() + std::size_t(buffer_slot[b]) * kChunk;

  for (std::size_t off = 0; off < n; off += kChunk) {
    const std::size_t m = std::min(kChunk, n - off);
    // Inputs are only ever read; the table is of mutable pointers because outputs share it.
    for (std::size_t k = 0; k < num_inputs; ++k) buffer[k] = const_cast<double*>(block.inputs[k] + off);
    if (f_buffer != kNone) buffer[f_buffer] = f + off;
    if (with_j)
      for (const auto& [j, b] : j_buffers) buffer[b] = J + j * ldj + off;

    for (const Instr& in : vector_program)
      if (with_j || !in.deriv_only) run(in, m, regs, buffer, true, with_j);

    if (f_buffer == kNone) store(value, m, regs, buffer, f + off);
    if (with_j)
      for (std::size_t j = 0; j < num_parameters; ++j)
        if (!gradient_direct[j]) store(gradient[j], m, regs, buffer, J + j * ldj + off);
  }
}

}  // namespace parafit::expr
