// Click a column heading of a table.sortable to sort its rows; click again to reverse.
// Cells carry their sort key in data-value; empty keys (unscored) always go last.
// Numbers sort high-to-low first (higher is better), text A-to-Z first, ranks (data-order="ascending") 1 first.
(function () {
  "use strict";

  function key(row, col, numeric) {
    var cell = row.cells[col];
    var raw = cell ? cell.getAttribute("data-value") : "";
    if (raw === null || raw === "") return null;
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }

  function sortBy(table, th) {
    var col = parseInt(th.getAttribute("data-col"), 10);
    var numeric = th.getAttribute("data-type") !== "text";
    var current = th.getAttribute("aria-sort");
    var highFirst = numeric && th.getAttribute("data-order") !== "ascending";
    var descending = current === "none" ? highFirst : current === "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, i) { row._order = i; });
    rows.sort(function (a, b) {
      var x = key(a, col, numeric), y = key(b, col, numeric);
      if (x === null || y === null) {
        if (x === y) return a._order - b._order;
        return x === null ? 1 : -1;
      }
      if (x === y) return a._order - b._order;  // stable
      var less = x < y ? -1 : 1;
      return descending ? -less : less;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("th[data-col]").forEach(function (th) {
        var button = th.querySelector("button") || th;
        button.addEventListener("click", function () { sortBy(table, th); });
      });
    });
  });
})();
