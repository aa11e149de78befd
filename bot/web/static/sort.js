// Sorts the heatmap's teams by the column whose header button is pressed (the table reads
// fine without this script: it only reorders rows). Hidden and not-asked cells sort last.
(function () {
  "use strict";
  function key(row, column) {
    var cell = row.cells[column];
    var value = cell.getAttribute("data-value");
    return value === null ? cell.textContent.trim().toLowerCase() : value;
  }
  function sortBy(table, column, header) {
    var body = table.querySelector("tbody[data-sortable]");
    if (!body) { return; }
    var numeric = column > 0;
    var current = header.getAttribute("aria-sort");
    // Numbers start highest first, names A to Z; pressing again reverses.
    var descending = numeric ? current !== "descending" : current === "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, column), y = key(b, column);
      if (numeric) {
        if (x === "" && y === "") { return 0; }
        if (x === "") { return 1; }
        if (y === "") { return -1; }
        x = parseFloat(x); y = parseFloat(y);
        return descending ? y - x : x - y;
      }
      return descending ? y.localeCompare(x) : x.localeCompare(y);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("thead th[aria-sort]").forEach(function (th) {
      th.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var status = document.getElementById("sort-status");
    var button = header.querySelector("button");
    if (status && button) {
      status.textContent = button.getAttribute(descending ? "data-sorted-desc" : "data-sorted-asc") || "";
    }
  }
  document.querySelectorAll("table[data-sort-table]").forEach(function (table) {
    table.querySelectorAll("thead th[aria-sort] button").forEach(function (button) {
      button.disabled = false;
      button.addEventListener("click", function () {
        var header = button.parentElement;
        sortBy(table, header.cellIndex, header);
      });
    });
  });
})();
