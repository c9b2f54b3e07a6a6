// The dashboard's chart of runs per hour (uPlot, vendored), drawn from the JSON the server puts
// beside it. The health panel is swapped in anew by htmx every few seconds, so each arrival of a
// panel draws its own chart, and charts whose panel was swapped out are let go.
(() => {
  const HEIGHT = 230;
  const COLOURS = { succeeded: "#198754", partial: "#ffc107", failed: "#dc3545" };
  const charts = new Map(); // element -> uPlot

  const hourLabel = (seconds) =>
    new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  function readout(element, data, index) {
    const line = element.parentElement.querySelector("[data-chart-readout]");
    if (!line || index == null) return;
    const start = data.hours[index];
    const parts = data.series.map((s) => `${s.counts[index]} ${s.label.toLowerCase()}`);
    line.textContent = `${hourLabel(start)}–${hourLabel(start + 3600)}: ${parts.join(", ")}`;
  }

  function draw(element) {
    const source = document.getElementById(element.dataset.runsChart);
    if (!source || typeof uPlot === "undefined") return;
    const data = JSON.parse(source.textContent);
    // Stacked bars: each series is drawn over the one before it, so series n shows the sum of the
    // first n statuses from the bottom (succeeded, then with problems, then failed on top).
    const keys = data.series.map((s) => s.key);
    const stacks = keys.map((_, n) => data.hours.map((_, i) => keys.slice(0, n + 1)
      .reduce((sum, key, k) => sum + data.series[k].counts[i], 0)));
    const middles = data.hours.map((h) => h + 1800);
    const bars = uPlot.paths.bars({ size: [0.75, 48], align: 0 });
    const series = [{}];
    for (let n = keys.length - 1; n >= 0; n -= 1) {
      series.push({ label: data.series[n].label, fill: COLOURS[keys[n]], stroke: COLOURS[keys[n]], width: 0,
        paths: bars, points: { show: false } });
    }
    const options = {
      width: Math.max(element.clientWidth, 200),
      height: HEIGHT,
      legend: { show: false },
      padding: [8, 8, 0, 0],
      cursor: { points: { show: false }, drag: { x: false, y: false, setScale: false } },
      scales: {
        x: { time: true, range: [data.hours[0], data.hours[data.hours.length - 1] + 3600] },
        y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] },
      },
      axes: [
        { stroke: "#6c757d", grid: { show: false }, ticks: { show: false }, space: 70,
          incrs: [3600, 7200, 10800, 21600], values: (u, splits) => splits.map(hourLabel) },
        { stroke: "#6c757d", grid: { stroke: "#eef1f5" }, ticks: { show: false }, size: 44,
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
          values: (u, splits) => splits.map((v) => v.toLocaleString()) },
      ],
      series,
      hooks: { setCursor: [(u) => readout(element, data, u.cursor.idx)] },
    };
    const stacked = [...stacks].reverse();
    charts.get(element)?.destroy();
    charts.set(element, new uPlot(options, [middles, ...stacked], element));
  }

  function forget() {
    charts.forEach((chart, element) => {
      if (!element.isConnected) {
        chart.destroy();
        charts.delete(element);
      }
    });
  }

  htmx.onLoad((root) => {
    forget();
    root.querySelectorAll("[data-runs-chart]").forEach(draw);
  });
  window.addEventListener("resize", () => {
    forget();
    charts.forEach((chart, element) => chart.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT }));
  });
})();
