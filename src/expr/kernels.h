// The loops of the tape, one per (operation, operand kinds, partials wanted), each applying a rule of
// parafit/jet.h to every row: on Highway vectors for the operations that vectorise, of the SIMD
// target chosen when the kernel is asked for (kernels.cpp), element by element otherwise.
#pragma once

#include "expr/ops.h"
#include "expr/tape.h"
#include "parafit/jet.h"

namespace parafit::expr {

// The loop computing op over n rows; a_vector/b_vector: whether operand a/b is a row buffer (else a
// pointer to one register); want_pa/want_pb: whether the partials are stored.
ValueKernel value_kernel(Op op, bool a_vector, bool b_vector, bool want_pa, bool want_pb);
// The loop computing out = p*d, or p*d + q*e when two_terms.
DerivKernel deriv_kernel(bool p_vector, bool d_vector, bool two_terms, bool q_vector, bool e_vector);
// op applied to constants at compile time, by the same rules (b ignored for one-operand ops).
ad::Binary apply_rule(Op op, double a, double b);

}  // namespace parafit::expr
