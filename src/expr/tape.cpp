// Code generation: the resolved syntax tree (post-order) becomes the scalar and vector programs of
// a Tape. One pass over the nodes does constant folding, common-subexpression sharing and the
// forward-mode chain rule; a second pass assigns buffers to reusable scratch slots.
#include "expr/tape.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "expr/diagnostics.h"
#include "expr/kernels.h"

namespace parafit::expr {
namespace {

// A value of the formula and its derivatives, sorted by parameter; parameters missing from
// `derivs` have derivative 0.
struct Slot {
  Ref value;
  std::vector<std::pair<std::uint32_t, Ref>> derivs;
};

class Builder {
 public:
  Builder(std::size_t num_parameters, std::size_t num_inputs) {
    tape_.num_parameters = num_parameters;
    tape_.num_inputs = num_inputs;
    next_buffer_ = static_cast<std::uint32_t>(num_inputs);
    for (std::size_t j = 0; j < num_parameters; ++j) tape_.param_register.push_back(new_register());
  }

  Tape build(const Expression& e) {
    std::vector<std::uint32_t> slot_of(e.nodes.size());
    std::vector<std::optional<std::uint32_t>> param_slot(tape_.num_parameters);
    std::vector<std::optional<std::uint32_t>> input_slot(tape_.num_inputs);
    for (std::size_t i = 0; i < e.nodes.size(); ++i) {
      const Node& n = e.nodes[i];
      switch (n.op) {
        case Op::kConst:
          slot_of[i] = add_slot(Slot{constant(n.value), {}});
          break;
        case Op::kParam:
          if (!param_slot[n.index]) {
            const Ref r{Ref::Kind::kScalar, tape_.param_register[n.index]};
            param_slot[n.index] = add_slot(Slot{r, {{n.index, constant(1.0)}}});
          }
          slot_of[i] = *param_slot[n.index];
          break;
        case Op::kInput:
          if (!input_slot[n.index]) input_slot[n.index] = add_slot(Slot{Ref{Ref::Kind::kVector, n.index}, {}});
          slot_of[i] = *input_slot[n.index];
          break;
        case Op::kName:
          throw FormulaError{n.pos, "internal error: unresolved name"};
        default:
          slot_of[i] = operation(n, slot_of[std::size_t(n.a)],
                                 is_binary(n.op) ? slot_of[std::size_t(n.b)] : kNone);
          break;
      }
    }
    const Slot& root = slots_[slot_of.back()];
    tape_.value = root.value;
    tape_.gradient.assign(tape_.num_parameters, Ref{});
    for (const auto& [j, r] : root.derivs) tape_.gradient[j] = r;
    assign_outputs();
    allocate_slots();
    return std::move(tape_);
  }

 private:
  std::uint32_t add_slot(Slot s) {
    slots_.push_back(std::move(s));
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }

  std::uint32_t new_register() {
    tape_.registers.push_back(0.0);
    known_.push_back(std::nullopt);
    return static_cast<std::uint32_t>(tape_.registers.size() - 1);
  }
  std::uint32_t new_buffer() { return next_buffer_++; }

  // A register holding a constant; one register per distinct value.
  Ref constant(double v) {
    const auto [it, inserted] = constants_.try_emplace(std::bit_cast<std::uint64_t>(v), 0u);
    if (inserted) {
      it->second = new_register();
      tape_.registers[it->second] = v;
      known_[it->second] = v;
    }
    return Ref{Ref::Kind::kScalar, it->second};
  }

  std::optional<double> known(Ref r) const {
    if (r.kind != Ref::Kind::kScalar) return std::nullopt;
    return known_[r.index];
  }
  static bool is(std::optional<double> k, double v) { return k && *k == v; }

  // v = op(a, b); pa/pb receive where the partials are (computed only when wanted).
  Ref emit_value(Op op, Ref a, Ref b, bool want_pa, bool want_pb, Ref& pa, Ref& pb) {
    // Partials that are operands or constants need no storage.
    switch (op) {
      case Op::kNeg: pa = constant(-1.0); want_pa = false; break;
      case Op::kAdd: pa = constant(1.0); pb = constant(1.0); want_pa = want_pb = false; break;
      case Op::kSub: pa = constant(1.0); pb = constant(-1.0); want_pa = want_pb = false; break;
      case Op::kMul: pa = b; pb = a; want_pa = want_pb = false; break;
      default: break;
    }
    // exp_rule's derivative is its value: the partial is the result itself, not a second buffer.
    const bool exp_alias = op == Op::kExp && want_pa;
    if (exp_alias) want_pa = false;
    const auto ka = known(a);
    const auto kb = known(b);
    if (ka && (b.none() || kb)) {  // constant folding, by the same rule the rows would use
      const ad::Binary r = apply_rule(op, *ka, kb.value_or(0.0));
      if (want_pa || exp_alias) pa = constant(r.da);
      if (want_pb) pb = constant(r.db);
      return constant(r.value);
    }
    const bool vec = a.vector() || b.vector();
    auto fresh = [&] {
      return vec ? Ref{Ref::Kind::kVector, new_buffer()} : Ref{Ref::Kind::kScalar, new_register()};
    };
    Instr in;
    in.in[0] = a;
    in.in[1] = b;
    const Ref v = fresh();
    in.out[0] = v.index;
    if (want_pa) {
      pa = fresh();
      in.out[1] = pa.index;
    }
    if (want_pb) {
      pb = fresh();
      in.out[2] = pb.index;
    }
    in.value = value_kernel(op, a.vector(), b.vector(), want_pa, want_pb);
    // Every rule computes its value the same way whichever partials are stored (pow's three rules
    // all take std::pow(a, b)), so f does not depend on whether J is wanted.
    in.value_only = value_kernel(op, a.vector(), b.vector(), false, false);
    (vec ? tape_.vector_program : tape_.scalar_program).push_back(in);
    if (exp_alias) pa = v;
    return v;
  }

  // p*d + q*e, where a missing term (d or e none) is 0. Folds constants and aliases p*1.
  Ref emit_deriv(Ref p, Ref d, Ref q, Ref e) {
    struct Term { Ref f, g; };
    Term terms[2];
    int count = 0;
    for (const Term t : {Term{p, d}, Term{q, e}}) {
      if (t.g.none() || is(known(t.f), 0.0) || is(known(t.g), 0.0)) continue;
      terms[count++] = t;
    }
    if (count == 0) return Ref{};
    const auto k0 = known(terms[0].f), k1 = known(terms[0].g);
    if (count == 1) {
      if (is(k0, 1.0)) return terms[0].g;
      if (is(k1, 1.0)) return terms[0].f;
      if (k0 && k1) return constant(*k0 * *k1);
    } else {
      const auto k2 = known(terms[1].f), k3 = known(terms[1].g);
      if (k0 && k1 && k2 && k3) return constant(*k0 * *k1 + *k2 * *k3);
    }
    const bool two = count == 2;
    const Term t1 = two ? terms[1] : Term{};
    const bool vec = terms[0].f.vector() || terms[0].g.vector() || t1.f.vector() || t1.g.vector();
    Instr in;
    in.deriv_only = true;
    in.in[0] = terms[0].f;
    in.in[1] = terms[0].g;
    in.in[2] = t1.f;
    in.in[3] = t1.g;
    in.deriv = deriv_kernel(in.in[0].vector(), in.in[1].vector(), two, in.in[2].vector(), in.in[3].vector());
    const Ref out = vec ? Ref{Ref::Kind::kVector, new_buffer()} : Ref{Ref::Kind::kScalar, new_register()};
    in.out[0] = out.index;
    (vec ? tape_.vector_program : tape_.scalar_program).push_back(in);
    return out;
  }

  std::uint32_t operation(const Node& n, std::uint32_t ia, std::uint32_t ib) {
    Op op = n.op;
    // x^2 is x*x: one multiplication instead of two pow calls per row (and the same bits, since
    // both are correctly rounded).
    if (op == Op::kPow && is(known(slots_[ib].value), 2.0)) {
      op = Op::kSquare;
      ib = kNone;
    }
    const Ref a = slots_[ia].value;
    const Ref b = ib == kNone ? Ref{} : slots_[ib].value;
    const auto key = std::make_tuple(op, a.kind, a.index, b.kind, b.index);
    if (const auto it = cse_.find(key); it != cse_.end()) return it->second;

    // Copies: emit_value and emit_deriv grow slots_, which would invalidate references.
    const std::vector<std::pair<std::uint32_t, Ref>> da = slots_[ia].derivs;
    const std::vector<std::pair<std::uint32_t, Ref>> db =
        ib == kNone ? std::vector<std::pair<std::uint32_t, Ref>>{} : slots_[ib].derivs;
    Ref pa, pb;
    Slot s;
    s.value = emit_value(op, a, b, !da.empty(), !db.empty(), pa, pb);
    // Merge the two sorted derivative lists: d op = pa da + pb db, parameter by parameter.
    std::size_t i = 0, k = 0;
    while (i < da.size() || k < db.size()) {
      const std::uint32_t ja = i < da.size() ? da[i].first : kNone;
      const std::uint32_t jb = k < db.size() ? db[k].first : kNone;
      const std::uint32_t j = std::min(ja, jb);
      const Ref ra = ja == j ? da[i++].second : Ref{};
      const Ref rb = jb == j ? db[k++].second : Ref{};
      const Ref r = emit_deriv(pa, ra, pb, rb);
      if (!r.none()) s.derivs.emplace_back(j, r);
    }
    derivatives_ += s.derivs.size();
    if (derivatives_ > kMaxDerivatives)
      throw FormulaError{n.pos, fmt::format("formula too large to differentiate (more than {} derivative "
                                            "terms)", kMaxDerivatives)};
    const std::uint32_t id = add_slot(std::move(s));
    cse_.emplace(key, id);
    return id;
  }

  // Lets the buffers holding the model value and its gradient be f and J themselves, so the last
  // instructions write there and nothing is copied. Inputs and buffers already taken are copied.
  void assign_outputs() {
    auto own = [&](Ref r) { return r.vector() && r.index >= tape_.num_inputs; };
    if (own(tape_.value)) tape_.f_buffer = tape_.value.index;
    tape_.gradient_direct.assign(tape_.num_parameters, 0);
    std::vector<bool> taken(next_buffer_, false);
    if (tape_.f_buffer != kNone) taken[tape_.f_buffer] = true;
    for (std::uint32_t j = 0; j < tape_.num_parameters; ++j) {
      const Ref r = tape_.gradient[j];
      if (own(r) && !taken[r.index]) {
        taken[r.index] = true;
        tape_.j_buffers.emplace_back(j, r.index);
        tape_.gradient_direct[j] = 1;
      }
    }
  }

  // Linear scan over the vector program: a buffer's slot is free again after its last reader.
  // Outputs of an instruction get their slots before its inputs are freed, so an instruction never
  // reads and writes the same memory (its loops are declared __restrict).
  void allocate_slots() {
    const std::size_t end = tape_.vector_program.size();
    std::vector<std::size_t> last_use(next_buffer_, 0);
    std::vector<bool> used(next_buffer_, false);
    for (std::size_t t = 0; t < end; ++t)
      for (const Ref& r : tape_.vector_program[t].in)
        if (r.vector()) {
          last_use[r.index] = t;
          used[r.index] = true;
        }
    auto keep = [&](Ref r) {
      if (r.vector()) {
        last_use[r.index] = end;
        used[r.index] = true;
      }
    };
    keep(tape_.value);
    for (const Ref& r : tape_.gradient) keep(r);

    tape_.buffer_slot.assign(next_buffer_, kNone);
    std::vector<bool> released(next_buffer_, false);
    std::vector<std::uint32_t> free_slots;
    for (std::size_t t = 0; t < end; ++t) {
      const Instr& in = tape_.vector_program[t];
      for (std::uint32_t b : in.out) {
        if (b == kNone) continue;
        if (free_slots.empty()) {
          tape_.buffer_slot[b] = tape_.num_slots++;
        } else {
          tape_.buffer_slot[b] = free_slots.back();
          free_slots.pop_back();
        }
      }
      // A buffer read twice by one instruction (x*x) is released once.
      auto release = [&](std::uint32_t b) {
        if (b < tape_.num_inputs || released[b] || (used[b] && last_use[b] != t)) return;
        released[b] = true;
        free_slots.push_back(tape_.buffer_slot[b]);
      };
      for (const Ref& r : in.in)
        if (r.vector()) release(r.index);
      for (std::uint32_t b : in.out)
        if (b != kNone) release(b);
    }
  }

  Tape tape_;
  std::vector<std::optional<double>> known_;
  std::unordered_map<std::uint64_t, std::uint32_t> constants_;
  std::uint32_t next_buffer_ = 0;
  std::vector<Slot> slots_;
  std::map<std::tuple<Op, Ref::Kind, std::uint32_t, Ref::Kind, std::uint32_t>, std::uint32_t> cse_;
  std::size_t derivatives_ = 0;
};

}  // namespace

Tape compile_tape(const Expression& e, std::size_t num_parameters, std::size_t num_inputs) {
  return Builder(num_parameters, num_inputs).build(e);
}

}  // namespace parafit::expr
