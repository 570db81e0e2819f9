#pragma once

// A small thread-safe Prometheus metrics registry: counters, gauges and
// histograms with label names fixed at registration, rendered in the text
// exposition format 0.0.4.
//
// Misuse never crashes the daemon: a wrong number of label values, a negative
// counter increment or a NaN observation is ignored, and so is an invalid or
// conflicting registration (the caller gets a working metric that is never
// rendered). Each is counted in globalsvc_metrics_errors_total{reason}, which
// the registry itself exports. See lib/observability/README.md.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace globalsvc::obs {

class Counter;

// What Counter, Gauge and Histogram share: name, help, label names, a mutex
// and the error accounting. Not used directly.
class MetricFamily {
 public:
  enum class Kind { kCounter, kGauge, kHistogram };

  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;
  virtual ~MetricFamily() = default;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] Kind kind() const { return kind_; }
  [[nodiscard]] const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  MetricFamily(Kind kind, std::string name, std::string help, std::vector<std::string> label_names,
               Counter* errors);

  // False (and counted as an error) when the number of values is wrong.
  [[nodiscard]] bool CheckArity(const std::vector<std::string>& label_values) const;
  void CountError(const char* reason) const;

  // Appends "# HELP", "# TYPE" and every series; nothing when a labelled
  // family has no series yet.
  void RenderHeader(std::string& out) const;
  virtual void RenderTo(std::string& out) const = 0;
  [[nodiscard]] virtual bool Empty() const = 0;

  const Kind kind_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  Counter* const errors_;  // the registry's error counter; null for that counter itself
  mutable std::mutex mutex_;

  friend class Registry;
};

class Counter final : public MetricFamily {
 public:
  // by must be >= 0; Inc(values, 0) makes the series visible at 0.
  void Inc(const std::vector<std::string>& label_values = {}, double by = 1);
  [[nodiscard]] double Value(const std::vector<std::string>& label_values = {}) const;
  // Drops the series (for example when its cluster is removed); no-op when absent.
  void Remove(const std::vector<std::string>& label_values);

 private:
  friend class Registry;
  Counter(std::string name, std::string help, std::vector<std::string> label_names,
          Counter* errors);
  void RenderTo(std::string& out) const override;
  [[nodiscard]] bool Empty() const override { return series_.empty(); }

  std::map<std::vector<std::string>, double> series_;
};

class Gauge final : public MetricFamily {
 public:
  void Set(double v, const std::vector<std::string>& label_values = {});
  void Add(double d, const std::vector<std::string>& label_values = {});
  [[nodiscard]] double Value(const std::vector<std::string>& label_values = {}) const;
  // Drops the series; no-op when absent.
  void Remove(const std::vector<std::string>& label_values);

 private:
  friend class Registry;
  Gauge(std::string name, std::string help, std::vector<std::string> label_names, Counter* errors);
  void RenderTo(std::string& out) const override;
  [[nodiscard]] bool Empty() const override { return series_.empty(); }

  std::map<std::vector<std::string>, double> series_;
};

class Histogram final : public MetricFamily {
 public:
  // Counted in the first bucket whose upper bound is >= v (bounds are
  // inclusive, as Prometheus' `le` says); NaN is ignored.
  void Observe(double v, const std::vector<std::string>& label_values = {});
  [[nodiscard]] std::uint64_t Count(const std::vector<std::string>& label_values = {}) const;
  [[nodiscard]] double Sum(const std::vector<std::string>& label_values = {}) const;
  // Drops the series; no-op when absent.
  void Remove(const std::vector<std::string>& label_values);

  [[nodiscard]] const std::vector<double>& buckets() const { return bounds_; }

 private:
  friend class Registry;
  struct Series {
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative; last is +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Histogram(std::string name, std::string help, std::vector<double> bounds,
            std::vector<std::string> label_names, Counter* errors);
  void RenderTo(std::string& out) const override;
  [[nodiscard]] bool Empty() const override { return series_.empty(); }
  Series& SeriesLocked(const std::vector<std::string>& label_values);

  const std::vector<double> bounds_;  // sorted, unique, finite
  std::map<std::vector<std::string>, Series> series_;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // name e.g. "globalsvc_reconcile_total"; label names fixed at registration.
  // Registering the same name again with the same kind, label names (and
  // buckets) returns the existing metric. The returned reference lives as
  // long as the registry.
  Counter& AddCounter(std::string name, std::string help,
                      std::vector<std::string> label_names = {});
  Gauge& AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // buckets: upper bounds; sorted and de-duplicated here, +Inf is implicit.
  Histogram& AddHistogram(std::string name, std::string help, std::vector<double> buckets,
                          std::vector<std::string> label_names = {});

  // Prometheus text exposition format 0.0.4: families sorted by name, series
  // by label values (in label-name order).
  [[nodiscard]] std::string Render() const;

  // The name of the counter of misuse (label `reason`).
  static constexpr const char* kErrorsMetric = "globalsvc_metrics_errors_total";

 private:
  // Returns the family to hand out: the new one once registered, an identical
  // existing one, or the new one detached when the registration is invalid or
  // conflicts (counted as an error).
  MetricFamily& Admit(std::unique_ptr<MetricFamily> family);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<MetricFamily>> families_;
  // Families refused at registration: usable, never rendered.
  std::vector<std::unique_ptr<MetricFamily>> detached_;
  Counter* errors_ = nullptr;
};

}  // namespace globalsvc::obs
