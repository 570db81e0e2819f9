#include "lib/observability/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string_view>
#include <utility>

#include "lib/observability/exposition_text.h"

namespace globalsvc::obs {
namespace {

constexpr const char* kReasonLabelCount = "label_count";
constexpr const char* kReasonInvalidValue = "invalid_value";
constexpr const char* kReasonRegistration = "registration";

// Names a family's samples take in the exposition (for collision checks).
std::vector<std::string> SampleNames(const MetricFamily& family) {
  if (family.kind() != MetricFamily::Kind::kHistogram) return {family.name()};
  return {family.name(), family.name() + "_bucket", family.name() + "_sum",
          family.name() + "_count"};
}

std::vector<double> NormalizeBuckets(std::vector<double> buckets) {
  std::erase_if(buckets, [](double b) { return !std::isfinite(b); });
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  return buckets;
}

}  // namespace

// ---- MetricFamily ----

MetricFamily::MetricFamily(Kind kind, std::string name, std::string help,
                           std::vector<std::string> label_names, Counter* errors)
    : kind_(kind),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      errors_(errors) {}

bool MetricFamily::CheckArity(const std::vector<std::string>& label_values) const {
  if (label_values.size() == label_names_.size()) return true;
  CountError(kReasonLabelCount);
  return false;
}

void MetricFamily::CountError(const char* reason) const {
  if (errors_ != nullptr) errors_->Inc({reason});
}

void MetricFamily::RenderHeader(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendEscapedHelp(out, help_);
  out += "\n# TYPE ";
  out += name_;
  switch (kind_) {
    case Kind::kCounter:
      out += " counter\n";
      break;
    case Kind::kGauge:
      out += " gauge\n";
      break;
    case Kind::kHistogram:
      out += " histogram\n";
      break;
  }
}

// ---- Counter ----

Counter::Counter(std::string name, std::string help, std::vector<std::string> label_names,
                 Counter* errors)
    : MetricFamily(Kind::kCounter, std::move(name), std::move(help), std::move(label_names),
                   errors) {
  if (label_names_.empty()) series_.emplace(std::vector<std::string>{}, 0.0);
}

void Counter::Inc(const std::vector<std::string>& label_values, double by) {
  if (!CheckArity(label_values)) return;
  if (!(by >= 0)) {  // negative or NaN: a counter never goes down
    CountError(kReasonInvalidValue);
    return;
  }
  std::lock_guard lock(mutex_);
  auto it = series_.find(label_values);
  if (it == series_.end()) it = series_.emplace(label_values, 0.0).first;
  it->second += by;
}

double Counter::Value(const std::vector<std::string>& label_values) const {
  if (!CheckArity(label_values)) return 0;
  std::lock_guard lock(mutex_);
  auto it = series_.find(label_values);
  return it == series_.end() ? 0 : it->second;
}

void Counter::Remove(const std::vector<std::string>& label_values) {
  if (!CheckArity(label_values)) return;
  std::lock_guard lock(mutex_);
  series_.erase(label_values);
}

void Counter::RenderTo(std::string& out) const {
  for (const auto& [values, value] : series_) {
    AppendSample(out, name_, label_names_, values, FormatMetricValue(value));
  }
}

// ---- Gauge ----

Gauge::Gauge(std::string name, std::string help, std::vector<std::string> label_names,
             Counter* errors)
    : MetricFamily(Kind::kGauge, std::move(name), std::move(help), std::move(label_names), errors) {
  if (label_names_.empty()) series_.emplace(std::vector<std::string>{}, 0.0);
}

void Gauge::Set(double v, const std::vector<std::string>& label_values) {
  if (!CheckArity(label_values)) return;
  std::lock_guard lock(mutex_);
  series_[label_values] = v;
}

void Gauge::Add(double d, const std::vector<std::string>& label_values) {
  if (!CheckArity(label_values)) return;
  std::lock_guard lock(mutex_);
  auto it = series_.find(label_values);
  if (it == series_.end()) it = series_.emplace(label_values, 0.0).first;
  it->second += d;
}

double Gauge::Value(const std::vector<std::string>& label_values) const {
  if (!CheckArity(label_values)) return 0;
  std::lock_guard lock(mutex_);
  auto it = series_.find(label_values);
  return it == series_.end() ? 0 : it->second;
}

void Gauge::Remove(const std::vector<std::string>& label_values) {
  if (!CheckArity(label_values)) return;
  std::lock_guard lock(mutex_);
  series_.erase(label_values);
}

void Gauge::RenderTo(std::string& out) const {
  for (const auto& [values, value] : series_) {
    AppendSample(out, name_, label_names_, values, FormatMetricValue(value));
  }
}

// ---- Histogram ----

Histogram::Histogram(std::string name, std::string help, std::vector<double> bounds,
                     std::vector<std::string> label_names, Counter* errors)
    : MetricFamily(Kind::kHistogram, std::move(name), std::move(help), std::move(label_names),
                   errors),
      bounds_(NormalizeBuckets(std::move(bounds))) {
  if (label_names_.empty()) SeriesLocked({});
}

Histogram::Series& Histogram::SeriesLocked(const std::vector<std::string>& label_values) {
  auto it = series_.find(label_values);
  if (it == series_.end()) {
    Series fresh;
    fresh.counts.assign(bounds_.size() + 1, 0);
    it = series_.emplace(label_values, std::move(fresh)).first;
  }
  return it->second;
}

void Histogram::Observe(double v, const std::vector<std::string>& label_values) {
  if (!CheckArity(label_values)) return;
  if (std::isnan(v)) {
    CountError(kReasonInvalidValue);
    return;
  }
  // First bound >= v; past the end is the +Inf bucket.
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                               bounds_.begin());
  std::lock_guard lock(mutex_);
  Series& series = SeriesLocked(label_values);
  ++series.counts[bucket];
  series.sum += v;
  ++series.count;
}

std::uint64_t Histogram::Count(const std::vector<std::string>& label_values) const {
  if (!CheckArity(label_values)) return 0;
  std::lock_guard lock(mutex_);
  auto it = series_.find(label_values);
  return it == series_.end() ? 0 : it->second.count;
}

double Histogram::Sum(const std::vector<std::string>& label_values) const {
  if (!CheckArity(label_values)) return 0;
  std::lock_guard lock(mutex_);
  auto it = series_.find(label_values);
  return it == series_.end() ? 0 : it->second.sum;
}

void Histogram::Remove(const std::vector<std::string>& label_values) {
  if (!CheckArity(label_values)) return;
  std::lock_guard lock(mutex_);
  series_.erase(label_values);
}

void Histogram::RenderTo(std::string& out) const {
  const std::string bucket_name = name_ + "_bucket";
  std::vector<std::string> le;
  le.reserve(bounds_.size() + 1);
  for (const double bound : bounds_)
    le.push_back(FormatMetricValue(bound));
  le.emplace_back("+Inf");
  for (const auto& [values, series] : series_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < le.size(); ++i) {
      cumulative += series.counts[i];
      out += bucket_name;
      AppendLabels(out, label_names_, values, "le", le[i]);
      out += ' ';
      out += std::to_string(cumulative);
      out += '\n';
    }
    AppendSample(out, name_ + "_sum", label_names_, values, FormatMetricValue(series.sum));
    AppendSample(out, name_ + "_count", label_names_, values, std::to_string(series.count));
  }
}

// ---- Registry ----

Registry::Registry() {
  auto errors = std::unique_ptr<Counter>(new Counter(
      kErrorsMetric, "Misuses of the metrics registry, ignored (see lib/observability).",
      {"reason"}, nullptr));
  errors_ = errors.get();
  families_.emplace(errors->name(), std::move(errors));
}

Registry::~Registry() = default;

MetricFamily& Registry::Admit(std::unique_ptr<MetricFamily> family) {
  bool valid = IsMetricName(family->name());
  std::set<std::string_view> seen;
  for (const auto& label : family->label_names()) {
    const bool reserved = family->kind() == MetricFamily::Kind::kHistogram && label == "le";
    if (!IsLabelName(label) || reserved || !seen.insert(label).second) valid = false;
  }

  std::lock_guard lock(mutex_);
  if (valid) {
    if (auto it = families_.find(family->name()); it != families_.end()) {
      MetricFamily& existing = *it->second;
      bool same =
          existing.kind() == family->kind() && existing.label_names() == family->label_names();
      if (same && existing.kind() == MetricFamily::Kind::kHistogram) {
        same = static_cast<Histogram&>(existing).buckets() ==
               static_cast<Histogram&>(*family).buckets();
      }
      if (same) return existing;
      valid = false;
    }
  }
  if (valid) {
    const auto wanted = SampleNames(*family);
    for (const auto& [name, existing] : families_) {
      for (const auto& taken : SampleNames(*existing)) {
        if (std::find(wanted.begin(), wanted.end(), taken) != wanted.end()) valid = false;
      }
    }
  }
  if (!valid) {
    errors_->Inc({kReasonRegistration});
    detached_.push_back(std::move(family));
    return *detached_.back();
  }
  auto& slot = families_[family->name()];
  slot = std::move(family);
  return *slot;
}

Counter& Registry::AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names) {
  return static_cast<Counter&>(Admit(std::unique_ptr<MetricFamily>(
      new Counter(std::move(name), std::move(help), std::move(label_names), errors_))));
}

Gauge& Registry::AddGauge(std::string name, std::string help,
                          std::vector<std::string> label_names) {
  return static_cast<Gauge&>(Admit(std::unique_ptr<MetricFamily>(
      new Gauge(std::move(name), std::move(help), std::move(label_names), errors_))));
}

Histogram& Registry::AddHistogram(std::string name, std::string help, std::vector<double> buckets,
                                  std::vector<std::string> label_names) {
  return static_cast<Histogram&>(Admit(std::unique_ptr<MetricFamily>(new Histogram(
      std::move(name), std::move(help), std::move(buckets), std::move(label_names), errors_))));
}

std::string Registry::Render() const {
  std::string out;
  out.reserve(4096);
  std::lock_guard registry_lock(mutex_);
  for (const auto& [name, family] : families_) {
    std::lock_guard family_lock(family->mutex_);
    if (family->Empty()) continue;
    family->RenderHeader(out);
    family->RenderTo(out);
  }
  return out;
}

}  // namespace globalsvc::obs
