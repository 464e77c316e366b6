/* The dashboard's chart: value per period, drawn by the vendored Chart.js from the data the page carries in
   a json_script element (the same figures as the table beside it, which screen readers read instead). */
(function () {
  "use strict";
  var COLOURS = ["#0b4f8a", "#17653a", "#8a4b00"];

  function draw() {
    var canvas = document.getElementById("value-chart");
    var source = document.getElementById("value-chart-data");
    if (!canvas || !source || typeof window.Chart !== "function") {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (dataset, index) {
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: COLOURS[index % COLOURS.length]
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
