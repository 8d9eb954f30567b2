// SPDX-License-Identifier: GPL-2.0-only
// Statistics for accept-distribution experiments: fairness of per-worker
// counts, latency summaries and log2 histograms.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace lab {

// How evenly work was spread over the workers.
struct Fairness {
	double jain;    // (sum x)^2 / (n * sum x^2): 1 is even, 1/n is one worker
	double max_min; // max / min; +inf when a worker got nothing
	double cv;      // coefficient of variation: population stddev / mean
	double chi2;    // Pearson's chi-square statistic against uniform
	double chi2_p;  // P(chi-square with n-1 dof >= chi2): small = not uniform
};

// Throws std::invalid_argument for no workers or no work at all.
Fairness fairness(std::span<const uint64_t> counts);

// Upper tail of the chi-square distribution with `dof` degrees of freedom.
double chi2_sf(double x, unsigned dof);

// Nearest-rank percentile (0 < p <= 100) of sorted samples: the smallest
// sample with at least p% of the samples at or below it.  p == 0 gives
// the minimum.  Throws std::invalid_argument for no samples or p out of
// range.
uint64_t percentile(std::span<const uint64_t> sorted, double p);

struct LatencySummary {
	uint64_t count, min, max, median, p50, p90, p99, p999;
	double avg, stddev; // population standard deviation
};

// Throws std::invalid_argument for no samples.
LatencySummary summarize(std::vector<uint64_t> samples);

// Counts per power of two: bucket 0 holds 0 and 1, bucket i >= 1 holds
// [2^i, 2^(i+1)).
class Log2Histogram {
public:
	static constexpr unsigned kBuckets = 64;

	static unsigned bucket_of(uint64_t v);
	void add(uint64_t v) { ++buckets_[bucket_of(v)]; }
	const std::array<uint64_t, kBuckets> &buckets() const { return buckets_; }

private:
	std::array<uint64_t, kBuckets> buckets_{};
};

} // namespace lab
