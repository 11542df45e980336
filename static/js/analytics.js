// Draws the analytics pages' per-day charts from the JSON the page embeds (#analytics-days).
// Each series differs by line style and point shape as well as colour; the same numbers are in a table.
(function () {
  "use strict";

  const source = document.getElementById("analytics-days");
  if (!source || !window.Chart) return;
  const days = JSON.parse(source.textContent);
  const labels = days.map((day) => day.date.slice(5));
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function line(label, values, colour, style) {
    return {
      label: label, data: values, borderColor: colour, backgroundColor: colour, borderWidth: 2,
      borderDash: style.dash || [], pointStyle: style.point, pointRadius: 3, pointHoverRadius: 5,
      spanGaps: true, tension: 0.2,
    };
  }

  function draw(name, datasets, yTitle, yOptions) {
    const canvas = document.querySelector(`canvas[data-chart="${name}"]`);
    if (!canvas) return;
    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: calm ? false : undefined,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { labels: { usePointStyle: true } } },
        scales: { x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
                  y: Object.assign({ beginAtZero: true, title: { display: true, text: yTitle } }, yOptions || {}) },
      },
    });
  }

  const solid = { point: "circle" };
  const dashed = { point: "triangle", dash: [6, 4] };
  draw("volume", [
    line("Conversations", days.map((d) => d.conversations), "#2f5bea", solid),
    line("Questions", days.map((d) => d.questions), "#b54708", dashed),
  ], "per day");
  draw("answered", [
    line("Answered %", days.map((d) => (d.answered_rate === null ? null : Math.round(d.answered_rate * 1000) / 10)),
      "#067647", solid),
  ], "% of answers", { max: 100 });
  draw("latency", [
    line("Median ms", days.map((d) => d.latency_p50_ms), "#2f5bea", solid),
    line("95th percentile ms", days.map((d) => d.latency_p95_ms), "#b42318", { point: "rect", dash: [2, 3] }),
  ], "milliseconds");
})();
