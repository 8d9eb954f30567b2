// SPDX-License-Identifier: GPL-2.0-only
#include "chart.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "report.h"

extern char **environ;

namespace lab {

namespace {

namespace fs = std::filesystem;

// A private temporary directory, removed with everything in it.
class TempDir {
public:
	TempDir()
	{
		std::string tmpl = (fs::temp_directory_path() / "acceptlab.XXXXXX").string();
		if (!mkdtemp(tmpl.data()))
			throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
		path_ = tmpl;
	}
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	~TempDir()
	{
		std::error_code ec;
		fs::remove_all(path_, ec);
	}
	const fs::path &path() const { return path_; }

private:
	fs::path path_;
};

std::string label(const nlohmann::json &j)
{
	return run_label(j) + " (" +
	       j.at("kernel").get<std::string>() + ")";
}

// gnuplot string literal: no quotes or backslashes inside.
std::string quoted(std::string s)
{
	for (char &c : s)
		if (c == '"' || c == '\\')
			c = '_';
	return "\"" + s + "\"";
}

void run_gnuplot(const fs::path &script)
{
	std::string prog = "gnuplot", arg = script.string();
	char *argv[] = {prog.data(), arg.data(), nullptr};
	pid_t pid;
	int err = posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv, environ);
	if (err)
		throw std::runtime_error(std::string("cannot run gnuplot (apt-get install "
						     "gnuplot-nox): ") + std::strerror(err));
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		throw std::runtime_error("gnuplot failed");
}

} // namespace

void write_chart(const std::vector<nlohmann::json> &results, const std::string &path)
{
	std::string ext = fs::path(path).extension().string();
	std::string terminal;
	if (ext == ".svg")
		terminal = "svg size 1100,450 dynamic background rgb 'white'";
	else if (ext == ".png")
		terminal = "pngcairo size 1100,450";
	else
		throw std::runtime_error("chart file must end in .svg or .png: " + path);

	TempDir tmp;
	// Shares: one row per worker, one column per result.
	size_t workers = 0;
	for (const auto &j : results)
		workers = std::max(workers, j.at("workers").size());
	{
		std::ofstream d(tmp.path() / "shares.dat");
		for (size_t w = 0; w < workers; w++) {
			d << w;
			for (const auto &j : results) {
				const auto &ws = j.at("workers");
				double total = 0, mine = 0;
				for (size_t k = 0; k < ws.size(); k++) {
					double a = ws[k].at("accepts").get<double>();
					total += a;
					if (k == w)
						mine = a;
				}
				d << " " << (total ? 100 * mine / total : 0);
			}
			d << "\n";
		}
	}
	// CDF: at each bucket's upper bound, the fraction at or below it.
	for (size_t i = 0; i < results.size(); i++) {
		std::ofstream d(tmp.path() / ("cdf" + std::to_string(i) + ".dat"));
		const auto &j = results[i];
		if (!j.contains("latency_us_log2_histogram"))
			continue;
		auto h = j["latency_us_log2_histogram"].get<std::vector<uint64_t>>();
		double total = 0, cum = 0;
		for (auto c : h)
			total += c;
		for (size_t b = 0; b < h.size() && total; b++) {
			if (cum == 0 && h[b]) // the curve starts at 0 at the first bucket
				d << (b ? 1ull << b : 1) << " 0\n";
			cum += h[b];
			if (cum > 0)
				d << (2ull << b) << " " << cum / total << "\n";
			if (cum == total)
				break;
		}
	}

	fs::path script = tmp.path() / "plot.gp";
	{
		std::ofstream g(script);
		g << "set terminal " << terminal << " noenhanced\n"
		  << "set output " << quoted(path) << "\n"
		  << "set multiplot layout 1,2\n"
		  << "set title 'Share of accepts per worker'\n"
		  << "set xlabel 'worker'\nset ylabel '% of accepts'\n"
		  << "set yrange [0:100]\nset style data histograms\n"
		  << "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
		  << "set key top right\n"
		  << "plot ";
		for (size_t i = 0; i < results.size(); i++)
			g << (i ? ", " : "") << quoted((tmp.path() / "shares.dat").string())
			  << " using " << i + 2 << (i ? "" : ":xtic(1)") << " title "
			  << quoted(label(results[i]));
		g << "\nset title 'Latency CDF'\nset xlabel 'latency (us, log scale)'\n"
		  << "set ylabel 'fraction of requests'\nset logscale x 2\n"
		  << "set yrange [0:1.05]\nset key right center\nset style data linespoints\n"
		  << "plot ";
		for (size_t i = 0; i < results.size(); i++)
			g << (i ? ", " : "")
			  << quoted((tmp.path() / ("cdf" + std::to_string(i) + ".dat")).string())
			  << " using 1:2 title " << quoted(label(results[i]));
		g << "\nunset multiplot\n";
	}
	run_gnuplot(script);
	if (!fs::exists(path) || fs::file_size(path) == 0)
		throw std::runtime_error("gnuplot wrote no " + path);
}

} // namespace lab
