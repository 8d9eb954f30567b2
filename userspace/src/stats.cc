// SPDX-License-Identifier: GPL-2.0-only
#include "stats.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace lab {

namespace {

// Regularized lower incomplete gamma P(a, x) by its series; for x < a + 1.
double gamma_p_series(double a, double x)
{
	double term = 1.0 / a, sum = term;
	for (int n = 1; n < 1000 && std::abs(term) > std::abs(sum) * 1e-16; ++n) {
		term *= x / (a + n);
		sum += term;
	}
	return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Regularized upper incomplete gamma Q(a, x) by its continued fraction
// (modified Lentz); for x >= a + 1.
double gamma_q_fraction(double a, double x)
{
	constexpr double tiny = 1e-300;
	double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
	for (int i = 1; i < 1000; ++i) {
		double an = -i * (i - a);
		b += 2;
		d = an * d + b;
		d = std::abs(d) < tiny ? tiny : d;
		c = b + an / c;
		c = std::abs(c) < tiny ? tiny : c;
		d = 1 / d;
		double delta = d * c;
		h *= delta;
		if (std::abs(delta - 1) < 1e-16)
			break;
	}
	return h * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

} // namespace

double chi2_sf(double x, unsigned dof)
{
	if (dof == 0)
		throw std::invalid_argument("chi-square needs at least 1 degree of freedom");
	if (x <= 0)
		return 1.0;
	double a = dof / 2.0, half = x / 2;
	return half < a + 1 ? 1 - gamma_p_series(a, half) : gamma_q_fraction(a, half);
}

Fairness fairness(std::span<const uint64_t> counts)
{
	if (counts.empty())
		throw std::invalid_argument("fairness of no workers");
	double n = counts.size(), sum = 0, sq = 0;
	for (uint64_t c : counts) {
		sum += c;
		sq += double(c) * c;
	}
	if (sum == 0)
		throw std::invalid_argument("fairness of no work");
	auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
	double mean = sum / n, chi2 = 0;
	for (uint64_t c : counts)
		chi2 += (c - mean) * (c - mean) / mean;
	Fairness f;
	f.jain = sum * sum / (n * sq);
	f.max_min = *lo ? double(*hi) / *lo : std::numeric_limits<double>::infinity();
	f.cv = std::sqrt(std::max(0.0, sq / n - mean * mean)) / mean;
	f.chi2 = chi2;
	f.chi2_p = counts.size() > 1 ? chi2_sf(chi2, counts.size() - 1) : 1.0;
	return f;
}

uint64_t percentile(std::span<const uint64_t> sorted, double p)
{
	if (sorted.empty())
		throw std::invalid_argument("percentile of no samples");
	if (!(p >= 0 && p <= 100))
		throw std::invalid_argument("percentile outside 0..100");
	auto rank = static_cast<size_t>(std::ceil(p / 100 * sorted.size()));
	return sorted[rank ? rank - 1 : 0];
}

LatencySummary summarize(std::vector<uint64_t> samples)
{
	if (samples.empty())
		throw std::invalid_argument("latency summary of no samples");
	std::sort(samples.begin(), samples.end());
	double n = samples.size(), sum = 0, sq = 0;
	for (uint64_t s : samples) {
		sum += s;
		sq += double(s) * s;
	}
	LatencySummary l;
	l.count = samples.size();
	l.min = samples.front();
	l.max = samples.back();
	l.p50 = l.median = percentile(samples, 50);
	l.p90 = percentile(samples, 90);
	l.p99 = percentile(samples, 99);
	l.p999 = percentile(samples, 99.9);
	l.avg = sum / n;
	l.stddev = std::sqrt(std::max(0.0, sq / n - l.avg * l.avg));
	return l;
}

unsigned Log2Histogram::bucket_of(uint64_t v)
{
	return v < 2 ? 0 : std::bit_width(v) - 1;
}

} // namespace lab
