// python/src/py_train.cpp — parafit.MLPRegressor's engine: train() on numpy columns (borrowed),
// Ctrl-C between steps, the trained network as its model-file text (what pickling keeps).
#include <fmt/format.h>

#include "parafit/error.h"
#include "parafit/mlp_file.h"
#include "parafit/report.h"
#include "parafit/html_report.h"
#include "parafit/train.h"
#include "py_common.h"

namespace parafit::python {
namespace {

template <class T>
T get(const py::dict& d, const char* key, T fallback) {
  return d.contains(key) && !d[key].is_none() ? d[key].cast<T>() : fallback;
}

TrainSpec spec_from(const py::dict& o) {
  TrainSpec s;
  s.model.name = get<std::string>(o, "model", "mlp:100");
  s.model.x = get<std::vector<std::string>>(o, "x", {});
  s.model.y = get<std::string>(o, "y", "y");
  s.model.activation = parse_activation(get<std::string>(o, "activation", "tanh"));
  s.model.precision = parse_precision(get<std::string>(o, "precision", "float32"));
  s.optimizer.name = get<std::string>(o, "optimizer", "adam");
  s.optimizer.learning_rate = get<double>(o, "learning_rate", 1e-3);
  if (o.contains("weight_decay") && !o["weight_decay"].is_none()) {
    s.optimizer.sgd.weight_decay = o["weight_decay"].cast<double>();
    s.optimizer.adam.weight_decay = o["weight_decay"].cast<double>();
  }
  s.optimizer.sgd.momentum = get<double>(o, "momentum", 0.0);
  s.optimizer.sgd.nesterov = get<bool>(o, "nesterov", false);
  s.optimizer.adam.beta1 = get<double>(o, "beta1", s.optimizer.adam.beta1);
  s.optimizer.adam.beta2 = get<double>(o, "beta2", s.optimizer.adam.beta2);
  s.optimizer.adam.epsilon = get<double>(o, "epsilon", s.optimizer.adam.epsilon);
  s.optimizer.lbfgs.max_iterations = get<int>(o, "max_iterations", s.optimizer.lbfgs.max_iterations);
  if (o.contains("schedule")) s.optimizer.schedule = parse_schedule(get<std::string>(o, "schedule", "constant"));
  s.trainer.batch = get<std::size_t>(o, "batch", 256);
  s.trainer.epochs = get<std::size_t>(o, "epochs", 10);
  s.trainer.accumulate = get<std::size_t>(o, "accumulate", 1);
  s.trainer.validation_fraction = get<double>(o, "validation_fraction", 0.0);
  s.trainer.early_stop = get<std::size_t>(o, "early_stop", 0);
  s.trainer.seed = get<std::uint64_t>(o, "seed", 1);
  s.loss = parse_loss(get<std::string>(o, "loss", "squared"), "loss");
  s.checkpoint.path = get<std::string>(o, "checkpoint", "");
  s.checkpoint.every = get<std::size_t>(o, "checkpoint_every", 0);
  s.checkpoint.resume = get<std::string>(o, "resume", "");
  if (o.contains("initial") && !o["initial"].is_none()) {
    // Continue from a trained network's weights (partial_fit, warm_start): its model-file text.
    const MlpModel from = parse_mlp(o["initial"].cast<std::string>(), "the previous fit");
    TrainModelOptions::InitialWeights w;
    w.parameters = from.parameters;
    w.input_mean = from.input_mean;
    w.input_scale = from.input_scale;
    w.y_mean = from.y_mean;
    w.y_scale = from.y_scale;
    s.model.initial = w;
  }
  return s;
}

struct TrainHandle {
  TrainResult result;
  bool interrupted = false;
  int threads = 0, ranks = 1;
};

std::shared_ptr<TrainHandle> run_train(const py::handle& data, const py::dict& options, std::optional<int> threads,
                                       const py::object& comm) {
  Columns cols = columns_from(data);
  const TrainSpec spec = spec_from(options);
  std::unique_ptr<Communicator> mpi;
  const Context ctx = context_for(threads, comm, mpi);
  auto h = std::make_shared<TrainHandle>();
  // Ctrl-C: checked after every step on one process (the run then ends as kUserStopped, its
  // checkpoints intact, and KeyboardInterrupt is raised).
  bool interrupted = false;
  TrainCallback callback;
  if (ctx.communicator == nullptr)
    callback = [&interrupted](const TrainProgress&) {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        interrupted = true;
        return false;
      }
      return true;
    };
  {
    py::gil_scoped_release release;
    // train() takes its Dataset by value: the copy borrows the same arrays (no data copied).
    h->result = train(cols.data, spec, ctx, callback);
  }
  if (interrupted) throw py::error_already_set();  // KeyboardInterrupt, still pending
  h->threads = ctx.resolved_threads();
  h->ranks = ctx.communicator != nullptr ? ctx.communicator->size() : 1;
  return h;
}

py::dict history(const TrainHandle& h) {
  std::vector<double> train, valid, lr, seconds;
  for (const EpochRecord& e : h.result.summary.history) {
    train.push_back(e.train_loss);
    valid.push_back(e.validation_loss);
    lr.push_back(e.learning_rate);
    seconds.push_back(e.seconds);
  }
  py::dict out;
  out["train_loss"] = to_array(train);
  out["validation_loss"] = to_array(valid);
  out["learning_rate"] = to_array(lr);
  out["seconds"] = to_array(seconds);
  return out;
}

}  // namespace

void register_train(py::module_& m) {
  py::class_<TrainHandle, std::shared_ptr<TrainHandle>>(m, "TrainHandle", "A finished training run.")
      .def("model_text", [](const TrainHandle& h) {
             if (!h.result.mlp) throw py::value_error("not an MLP");
             return serialize_mlp(*h.result.mlp);
           })
      .def("history", &history)
      .def("summary", [](const TrainHandle& h) {
             ReportContext rc;
             rc.threads = h.threads;
             rc.ranks = h.ranks;
             return format_train_summary(h.result, rc);
           })
      .def("json", [](const TrainHandle& h) {
             ReportContext rc;
             rc.threads = h.threads;
             rc.ranks = h.ranks;
             return format_train_json(h.result, rc);
           })
      .def("report_html", [](const TrainHandle& h, const std::string& title) {
             HtmlReportOptions ho;
             ho.title = title;
             return train_report_html(h.result, ho);
           }, py::arg("title") = "")
      .def_property_readonly("termination", [](const TrainHandle& h) { return to_string(h.result.summary.termination); })
      .def_property_readonly("message", [](const TrainHandle& h) { return h.result.summary.message; })
      .def_property_readonly("epochs", [](const TrainHandle& h) { return h.result.summary.epochs; })
      .def_property_readonly("steps", [](const TrainHandle& h) { return h.result.summary.steps; })
      .def_property_readonly("final_train_loss", [](const TrainHandle& h) { return h.result.summary.final_train_loss; })
      .def_property_readonly("samples_per_second",
                             [](const TrainHandle& h) { return h.result.summary.samples_per_second; });
  m.def("train", &run_train, py::arg("data"), py::arg("options"), py::arg("threads") = py::none(),
        py::arg("comm") = py::none(), "The engine of parafit.MLPRegressor (use that).");
  // An MLP's predictions from its model-file text (a fitted MLPRegressor's state).
  m.def("mlp_predict", [](const std::string& text, const py::handle& data, std::optional<int> threads) {
          const MlpModel model = parse_mlp(text, "the fitted model");
          Columns cols = columns_from(data);
          std::vector<double> f;
          {
            py::gil_scoped_release release;
            Context ctx;
            if (threads) ctx.threads = *threads;
            f = model.predict(cols.data, ctx);
          }
          return to_array(f);
        }, py::arg("model_text"), py::arg("data"), py::arg("threads") = py::none());
}

}  // namespace parafit::python
