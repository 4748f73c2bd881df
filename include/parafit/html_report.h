// parafit/html_report.h — the HTML report of a fit, a batch of fits or a training run (`--report
// out.html` on `parafit fit`, `batch` and `train`).
//
// One self-contained file: the charting library (dygraphs, from Debian's libjs-dygraphs, compiled
// into parafit) and the data are inlined, so it opens from disk with no network and can be mailed.
// The charts zoom (drag; double-click to zoom out) and show the values under the pointer.
//   fit     the summary table; the data with the fitted curve and its confidence and prediction
//           bands (one input), or data and fitted values against each input (several); residuals
//           against the fitted values and against each input; a normal Q-Q plot of the
//           standardised residuals; the cost per Levenberg-Marquardt iteration
//   batch   the status counts, and a histogram of each estimate and of the cost over the fits
//   train   the summary; training and validation loss per epoch (L-BFGS: per iteration); samples/s
// Large data: a scatter plot of more than HtmlReportOptions::all_points rows draws a uniform sample
// of about `sample_points` rows (where the points are dense) and, for each of `columns` pixel
// columns, the points of least and greatest value (the envelope a full plot shows, outliers
// included); the Q-Q plot then has `qq_points` quantiles. The curve and bands are computed on their own grid,
// never decimated. A 10-million-row fit's report is well under 3 MB (docs/report.md).
#pragma once

#include <cstddef>
#include <string>

#include "parafit/batch.h"
#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/fit.h"
#include "parafit/train.h"

namespace parafit {

struct HtmlReportOptions {
  std::string title;         // the page's heading (default: what was run)
  std::string subtitle;      // a line under it (the command line, the data file)
  std::string text_summary;  // the text summary, shown in full in the page (format_summary's)
  std::size_t columns = 1000;     // pixel columns of a decimated scatter plot
  std::size_t all_points = 5000;  // at most this many rows: every point is drawn
  std::size_t sample_points = 2000;  // beyond: about this many rows sampled, with each column's extremes
  std::size_t qq_points = 2000;   // quantiles of a decimated Q-Q plot
  std::size_t curve_points = 400; // the fitted curve's grid
};

// A collective under several ranks (context.communicator): each rank passes its rows of the data
// the fit ran on (`local`); rank 0 receives the page, the others "". Throws parafit::Error as
// row_diagnostics does.
std::string fit_report_html(const Dataset& local, const FitResult& fit, const Context& context = {},
                            const HtmlReportOptions& options = {});

// Not a collective: the whole result (rank 0's, under MPI).
std::string batch_report_html(const BatchResult& result, const HtmlReportOptions& options = {});
std::string train_report_html(const TrainResult& result, const HtmlReportOptions& options = {});

}  // namespace parafit
