/* Functions the board's grids name in their column definitions and export settings
   (dashboards/components/grid.py). A local asset: the board's CSP allows only its own
   scripts, and dash-ag-grid evaluates these names without eval. */
(function () {
  var fns = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  var missing = function (v) { return v === null || v === undefined || (typeof v === "number" && isNaN(v)); };

  // A KPI value as the rest of the board shows it (components/common.format_value).
  fns.qloopValue = function (value, unit) {
    if (missing(value)) return "\u2014";
    return unit === "ratio" ? (value * 100).toFixed(1) + "%" : Number(value).toFixed(2);
  };

  // A count with thousands separators, as f"{n:,}" does.
  fns.qloopInt = function (value) {
    if (missing(value)) return "\u2014";
    return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  };

  fns.qloopText = function (value) {
    return missing(value) || value === "" ? "\u2014" : String(value);
  };

  // The server's CSV rule (dagster_project/lib/csv_cells.py): a text cell that Excel would
  // read as a formula gets a ' in front; numbers, negative ones too, stay numbers.
  fns.qloopCsvCell = function (params) {
    var value = params.value;
    if (missing(value)) return "";
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(value)) return "'" + value;
    return value;
  };
})();

/* Cell renderers. */
(function () {
  var components = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

  // A link inside the board; a plain click navigates like dcc.Link (no page reload).
  components.QLink = function (props) {
    var p = props.colDef.cellRendererParams || {};
    var target = props.data && p.hrefField ? props.data[p.hrefField] : props.value;
    if (target === null || target === undefined || target === "") return null;
    var href = p.href.replace("{}", encodeURIComponent(target));
    var text = (p.label || "{}").replace("{}", String(props.value === null || props.value === undefined ? target : props.value));
    return React.createElement("a", {
      href: href, className: p.className || null,
      onClick: function (event) {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        window.history.pushState({}, "", href);
        window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
        window.scrollTo(0, 0);
      },
    }, text);
  };

  // A value as its column formats it, and beside it the row's note (a low-volume value's
  // "low volume (n=3)"), so the mark stays next to the number it qualifies.
  components.QValueNote = function (props) {
    var p = props.colDef.cellRendererParams || {};
    var text = props.valueFormatted === null || props.valueFormatted === undefined ? props.value : props.valueFormatted;
    var note = props.data && p.noteField ? props.data[p.noteField] : null;
    if (note === null || note === undefined || note === "") return text === null || text === undefined ? null : String(text);
    var title = props.data && p.titleField ? props.data[p.titleField] : null;
    return React.createElement("span", null, String(text), " ",
      React.createElement("span", {className: "low-volume", title: title || null, "data-n": props.data.denominator}, note));
  };

  // A badge (state, severity, RAG status): the label shown, the raw value as its class and data.
  components.QBadge = function (props) {
    var p = props.colDef.cellRendererParams || {};
    var raw = props.data ? props.data[p.rawField] : null;
    if (raw === null || raw === undefined) return props.value === null || props.value === undefined ? null : String(props.value);
    var attrs = {className: p.className + " " + p.prefix + raw};
    attrs[p.dataAttribute] = raw;
    return React.createElement("span", attrs, props.value);
  };
})();
