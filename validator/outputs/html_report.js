/* The HTML report's findings explorer and child view (validator/outputs/html.py embeds this file).
   Everything is drawn with createElement and textContent: no value from the return is ever parsed as HTML. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var S = data.strings;
  var FS = data.fieldsets;
  var F = data.findings;
  var SEV = data.severities;
  var SEV_LABEL = { error: "Error", query: "Query", notice: "Notice" };
  // A finding is an array: [code, severity, level, message, table, row, child, fieldset, values, file, line]
  var CODE = 0, SEVI = 1, MSG = 3, TABLE = 4, ROW = 5, CHILD = 6, FIELDS = 7, VALUES = 8, FILE = 9, LINE = 10;
  var NONE = "\u0000none";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "className") node.className = v;
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function fmt(n) { return n.toLocaleString("en-GB"); }
  function str(i) { return i < 0 ? null : S[i]; }
  function sevName(f) { return SEV[f[SEVI]]; }
  function groupKey(f) { return f[SEVI] + "\u0000" + S[f[CODE]]; }
  function plural(n, one, many) { return fmt(n) + " " + (n === 1 ? one : many); }
  function childHref(id) { return "#child=" + encodeURIComponent(id); }

  // ------------------------------------------------------------------------------------------ indexes
  var groupMessage = {};
  data.groups.forEach(function (g) { groupMessage[SEV.indexOf(g.severity) + "\u0000" + g.code] = g.message; });
  var childLower = new Array(F.length);
  var byChild = Object.create(null);
  var tablesSeen = Object.create(null);
  for (var i = 0; i < F.length; i++) {
    var c = F[i][CHILD];
    childLower[i] = c === null ? null : String(c).toLowerCase();
    if (c !== null) (byChild[c] || (byChild[c] = [])).push(i);
    tablesSeen[F[i][TABLE] < 0 ? NONE : S[F[i][TABLE]]] = true;
  }
  var childIds = Object.keys(byChild);

  // ------------------------------------------------------------------------------------------ cells
  function badge(sev) { return el("span", { className: "badge sev-" + sev, text: sev }); }

  function fieldsCell(f) {
    var names = FS[f[FIELDS]], values = f[VALUES], td = el("td", { className: "fv" });
    names.forEach(function (name, k) {
      if (k) td.appendChild(document.createTextNode("; "));
      td.appendChild(el("code", { text: name }));
      if (!values.length) return;  // a file-level finding names the column only
      td.appendChild(document.createTextNode(" = "));
      var v = k < values.length ? values[k] : null;
      td.appendChild(v === null ? el("em", { className: "blank", text: "blank" }) : el("span", { className: "val", text: v }));
    });
    return td;
  }

  function whereText(f) {
    var parts = [];
    if (f[FILE] >= 0) parts.push(S[f[FILE]]);
    if (f[LINE] !== null) parts.push("line " + f[LINE]);
    return parts.join(" ");
  }

  function detailText(f) {
    var msg = S[f[MSG]];
    return msg === groupMessage[groupKey(f)] ? "" : msg;
  }

  // ------------------------------------------------------------------------------------------ filters
  var form = document.getElementById("filters");
  var ruleSelect = document.getElementById("f-rule");
  var tableSelect = document.getElementById("f-table");
  var childInput = document.getElementById("f-child");
  var sizeSelect = document.getElementById("f-size");
  var status = document.getElementById("f-status");
  var tbody = document.getElementById("f-body");
  var sevBoxes = Array.prototype.slice.call(form.querySelectorAll("input[name=severity]"));

  var seenCodes = Object.create(null);
  data.groups.forEach(function (g) {
    if (seenCodes[g.code]) return;
    seenCodes[g.code] = true;
    var message = g.message.length > 90 ? g.message.slice(0, 87) + "..." : g.message;
    ruleSelect.appendChild(el("option", { value: g.code, text: g.code + " (" + g.severity + ", " + fmt(g.count) + ") " + message }));
  });
  Object.keys(tablesSeen).sort().forEach(function (t) {
    tableSelect.appendChild(el("option", { value: t, text: t === NONE ? "(no table: the return or a file)" : t }));
  });

  var state = { matches: new Int32Array(0), groupCounts: {}, page: 0 };

  function applyFilters() {
    var sevOn = sevBoxes.map(function (b) { return b.checked; });
    var rule = ruleSelect.value, table = tableSelect.value;
    var q = childInput.value.trim().toLowerCase();
    var sevCounts = [0, 0, 0], groupCounts = {};
    var out = new Int32Array(F.length), n = 0;
    for (var i = 0; i < F.length; i++) {
      var f = F[i];
      if (rule && S[f[CODE]] !== rule) continue;
      if (table) {
        if (table === NONE ? f[TABLE] >= 0 : f[TABLE] < 0 || S[f[TABLE]] !== table) continue;
      }
      if (q && (childLower[i] === null || childLower[i].indexOf(q) < 0)) continue;
      sevCounts[f[SEVI]]++;
      if (!sevOn[f[SEVI]]) continue;
      out[n++] = i;
      var key = groupKey(f);
      groupCounts[key] = (groupCounts[key] || 0) + 1;
    }
    state.matches = out.subarray(0, n);
    state.groupCounts = groupCounts;
    state.page = 0;
    SEV.forEach(function (s, k) {
      var span = form.querySelector("[data-sev-count=" + s + "]");
      if (span) span.textContent = "(" + fmt(sevCounts[k]) + ")";
    });
    render();
  }

  function pageSize() { return parseInt(sizeSelect.value, 10) || 100; }
  function pageCount() { return Math.max(1, Math.ceil(state.matches.length / pageSize())); }

  function render() {
    var size = pageSize(), total = state.matches.length;
    var start = state.page * size, end = Math.min(total, start + size);
    var rows = document.createDocumentFragment(), lastKey = null;
    for (var p = start; p < end; p++) {
      var f = F[state.matches[p]], key = groupKey(f);
      if (key !== lastKey) {
        var sev = sevName(f), code = S[f[CODE]];
        var continued = p > 0 && groupKey(F[state.matches[p - 1]]) === key;
        rows.appendChild(el("tr", { className: "group sev-" + sev }, [
          el("th", { colspan: 7, scope: "colgroup" }, [
            badge(sev), " ", el("strong", { text: code }), " ",
            el("span", { className: "gmsg", text: groupMessage[key] || "" }), " ",
            el("span", { className: "count", text: "— " + fmt(state.groupCounts[key] || 0) + " shown" + (continued ? " (continued)" : "") })
          ])
        ]));
        lastKey = key;
      }
      var child = f[CHILD];
      rows.appendChild(el("tr", { className: "sev-" + sevName(f) }, [
        el("td", null, [badge(sevName(f))]),
        el("td", { text: S[f[CODE]] }),
        el("td", null, [child === null ? null : el("a", { href: childHref(child), className: "child-link", text: String(child) })]),
        el("td", { text: str(f[TABLE]) || "" }),
        el("td", { text: whereText(f), title: f[ROW] === null ? null : "record " + f[ROW] + " of its table (0-based)" }),
        fieldsCell(f),
        el("td", { text: detailText(f) })
      ]));
    }
    tbody.replaceChildren(rows);
    if (!total) {
      tbody.appendChild(el("tr", null, [el("td", { colspan: 7, className: "empty", text: "No finding matches these filters." })]));
    }
    status.textContent = total
      ? "Showing " + fmt(start + 1) + "–" + fmt(end) + " of " + fmt(total) + " findings" +
        (total < F.length ? " (filtered from " + fmt(F.length) + ")" : "") + ", page " + fmt(state.page + 1) + " of " + fmt(pageCount()) + "."
      : "No finding matches these filters (" + fmt(F.length) + " in all).";
    renderPager("f-pager-top");
    renderPager("f-pager-bottom");
  }

  function renderPager(id) {
    var box = document.getElementById(id), last = pageCount() - 1;
    function button(label, text, page, disabled) {
      var b = el("button", { type: "button", "aria-label": label, disabled: disabled, text: text });
      b.addEventListener("click", function () {
        state.page = page;
        render();
        if (id === "f-pager-bottom") document.getElementById("findings").scrollIntoView();
      });
      return b;
    }
    box.replaceChildren(
      button("First page", "« First", 0, state.page === 0),
      button("Previous page", "‹ Previous", state.page - 1, state.page === 0),
      el("span", { className: "pageno", text: "Page " + fmt(state.page + 1) + " of " + fmt(last + 1) }),
      button("Next page", "Next ›", state.page + 1, state.page >= last),
      button("Last page", "Last »", last, state.page >= last)
    );
  }

  var debounce = null;
  function later() { clearTimeout(debounce); debounce = setTimeout(applyFilters, 120); }
  sevBoxes.forEach(function (b) { b.addEventListener("change", applyFilters); });
  ruleSelect.addEventListener("change", applyFilters);
  tableSelect.addEventListener("change", applyFilters);
  sizeSelect.addEventListener("change", function () { state.page = 0; render(); });
  childInput.addEventListener("input", later);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  childInput.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    var q = childInput.value.trim();
    if (!q) return;
    var hits = byChild[q] || (data.records && data.records[q]) ? [q] : childIds.filter(function (c) { return c.toLowerCase().indexOf(q.toLowerCase()) >= 0; });
    if (hits.length === 1) location.hash = childHref(hits[0]);
    else applyFilters();
  });
  form.addEventListener("reset", function () { setTimeout(applyFilters, 0); });

  Array.prototype.forEach.call(document.querySelectorAll("button.show-rule"), function (b) {
    b.addEventListener("click", function () {
      ruleSelect.value = b.getAttribute("data-code");
      tableSelect.value = "";
      childInput.value = "";
      sevBoxes.forEach(function (box) { box.checked = true; });
      applyFilters();
      if (location.hash.indexOf("#child=") === 0) history.pushState(null, "", "#findings");
      showChild(null);
      var h = document.getElementById("findings-h");
      h.setAttribute("tabindex", "-1");
      h.focus();
      document.getElementById("findings").scrollIntoView();
    });
  });

  // ------------------------------------------------------------------------------------------ child view
  var childSection = document.getElementById("child");
  var childHeading = document.getElementById("child-h");
  var childBody = document.getElementById("child-body");

  function showChild(id) {
    if (id === null) {
      childSection.hidden = true;
      childBody.replaceChildren();
      return;
    }
    var mine = byChild[id] || [];
    childHeading.textContent = "Child " + id;
    var counts = [0, 0, 0];
    mine.forEach(function (i) { counts[F[i][SEVI]]++; });
    var parts = [el("p", { className: "child-sum", text: fmt(mine.length) + " finding" + (mine.length === 1 ? "" : "s") + ": " +
      plural(counts[0], "error", "errors") + ", " + plural(counts[1], "query", "queries") + ", " +
      plural(counts[2], "notice", "notices") + "." })];

    // Which records and cells the child's findings flag.
    var rowFlags = Object.create(null);   // "table\u0000row" -> {codes: [], cells: {col: [codes]}}
    var related = Object.create(null);    // table -> {col: [codes]}
    function add(list, code) { if (list.indexOf(code) < 0) list.push(code); }
    mine.forEach(function (i) {
      var f = F[i], code = S[f[CODE]], table = str(f[TABLE]), flags = null;
      if (table !== null && f[ROW] !== null) {
        var key = table + "\u0000" + f[ROW];
        flags = rowFlags[key] || (rowFlags[key] = { codes: [], cells: {} });
        add(flags.codes, code);
      }
      FS[f[FIELDS]].forEach(function (name) {
        var dot = name.indexOf("."), t = table, col = name;
        if (dot > 0) { t = name.slice(0, dot); col = name.slice(dot + 1); }
        if (dot < 0 && flags) { add(flags.cells[col] || (flags.cells[col] = []), code); return; }
        if (t === null) return;
        var rel = related[t] || (related[t] = {});
        add(rel[col] || (rel[col] = []), code);
      });
    });

    // The child's findings.
    parts.push(el("h3", { text: "Findings" }));
    if (mine.length) {
      var body = el("tbody");
      mine.forEach(function (i) {
        var f = F[i], table = str(f[TABLE]), go = null;
        if (table !== null && f[ROW] !== null) {
          go = el("button", { type: "button", className: "goto", "data-target": recordId(table, f[ROW]), text: "Show record",
            "aria-label": "Show the " + table + " record flagged by " + S[f[CODE]] });
        }
        body.appendChild(el("tr", { className: "sev-" + sevName(f) }, [
          el("td", null, [badge(sevName(f))]),
          el("td", { text: S[f[CODE]] }),
          el("td", { text: table || "" }),
          el("td", { text: whereText(f) }),
          fieldsCell(f),
          el("td", { text: S[f[MSG]] }),
          el("td", { className: "noprint" }, [go])
        ]));
      });
      parts.push(scroll("Findings of child " + id, el("table", { className: "findings" }, [
        el("thead", null, [el("tr", null, ["Severity", "Code", "Table", "Where", "Fields and values", "Message", ""].map(function (h) {
          return el("th", { scope: "col", className: h ? null : "noprint" }, [h ? h : el("span", { className: "vh", text: "Action" })]);
        }))]),
        body
      ])));
    } else {
      parts.push(el("p", { text: "No finding names this child." }));
    }

    // The child's records, table by table.
    parts.push(el("h3", { text: "Records" }));
    var recs = data.records[id];
    if (!data.meta.records) {
      parts.push(el("p", { text: "This report was made without the tables, so the records cannot be shown." }));
    } else if (!recs) {
      parts.push(el("p", { text: data.meta.every_child
        ? "No record of this child in the tables read."
        : "Only the records of children with findings are in this report (a pseudonymised report, or a very large return)." }));
    } else {
      parts.push(el("p", { className: "legend" }, [
        el("span", { className: "hl sample", text: "flagged cell" }), " a value a finding names on this record; ",
        el("span", { className: "rel sample", text: "related cell" }), " a column a finding on another record compares with."
      ]));
      var empty = [];
      data.tables.forEach(function (t, ti) {
        var rows = recs[String(ti)];
        var label = t.base + (t.year === "current" ? "" : " — " + (t.year === "previous" ? "previous year" : t.year.replace("previous", "") + " years before"));
        if (!rows) { if (t.year === "current") empty.push(t.base); return; }
        parts.push(recordTable(t, label, rows, rowFlags, related[t.name] || {}));
      });
      if (empty.length) parts.push(el("p", { className: "none-in", text: "No records in: " + empty.join(", ") + "." }));
    }
    childBody.replaceChildren.apply(childBody, parts);
    childSection.hidden = false;
  }

  function recordId(table, row) { return "rec-" + encodeURIComponent(table).replace(/%/g, "_") + "-" + row; }

  function scroll(label, table) {
    return el("div", { className: "scroll", role: "region", "aria-label": label, tabindex: 0 }, [table]);
  }

  function recordTable(t, label, rows, rowFlags, related) {
    var head = el("tr", null, [el("th", { scope: "col", text: "Flags" }), el("th", { scope: "col", text: "Line" })]);
    t.columns.forEach(function (c) {
      head.appendChild(el("th", { scope: "col", className: related[c] ? "rel" : null, text: c }));
    });
    var body = el("tbody");
    rows.forEach(function (r) {
      var flags = rowFlags[t.name + "\u0000" + r[0]];
      var tr = el("tr", { id: recordId(t.name, r[0]), tabindex: -1, className: flags ? "flagged" : null });
      tr.appendChild(el("th", { scope: "row", className: "flags", text: flags ? flags.codes.join(", ") : "" }));
      tr.appendChild(el("td", { className: "line", text: r[2] === null ? "" : String(r[2]), title: str(r[1]) }));
      t.columns.forEach(function (c, k) {
        var v = r[3 + k], td = el("td", null, [v === null ? "" : v]);
        var codes = flags && flags.cells[c], rel = related[c];
        if (codes) {
          td.className = "hl";
          td.title = "flagged by " + codes.join(", ");
          td.appendChild(el("span", { className: "vh", text: " (flagged by " + codes.join(", ") + ")" }));
        } else if (rel) {
          td.className = "rel";
          td.title = "compared by " + rel.join(", ");
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var n = rows.length;
    return el("div", { className: "records" }, [
      el("h4", { text: label + " (" + n + " record" + (n === 1 ? "" : "s") + ")" }),
      scroll(label + " records", el("table", { className: "recs" }, [el("thead", null, [head]), body]))
    ]);
  }

  childBody.addEventListener("click", function (ev) {
    var b = ev.target.closest("button.goto");
    if (!b) return;
    var row = document.getElementById(b.getAttribute("data-target"));
    if (row) {
      row.scrollIntoView({ block: "center" });
      row.focus();
    }
  });

  function route() {
    var h = location.hash;
    if (h.indexOf("#child=") === 0) {
      var id;
      try { id = decodeURIComponent(h.slice(7)); } catch (e) { id = h.slice(7); }
      showChild(id);
      childHeading.focus();
      childSection.scrollIntoView();
    } else {
      showChild(null);
    }
  }
  window.addEventListener("hashchange", route);

  applyFilters();
  route();
  document.documentElement.setAttribute("data-ready", "true");
})();
