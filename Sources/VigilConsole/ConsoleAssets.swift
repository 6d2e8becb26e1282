/// The console's stylesheet and its one script, served from the binary (no CDN, nothing
/// fetched from another host: the console works offline). The script only adds: it never
/// puts report text into the page as HTML (textContent only).
enum ConsoleAssets {
  static let stylesheet = """
    :root { --fg:#1b1f24; --muted:#5b6570; --line:#d8dde3; --bg:#fff; --accent:#0b5cad;
      --critical:#8b0000; --high:#c0392b; --medium:#d68910; --low:#2e86c1; --info:#7f8c8d; }
    * { box-sizing: border-box; }
    body { margin:0; font:15px/1.45 system-ui, "Noto Sans", "Noto Naskh Arabic", sans-serif; color:var(--fg); background:var(--bg); }
    header { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1.2rem; padding:.6rem 1rem; border-bottom:1px solid var(--line); background:#f6f8fa; }
    .brand { font-weight:700; letter-spacing:.02em; }
    .node { color:var(--muted); }
    nav { display:flex; flex-wrap:wrap; gap:.9rem; }
    nav a { color:var(--accent); text-decoration:none; }
    nav a[aria-current] { font-weight:700; text-decoration:underline; }
    main { padding:1rem; max-width:1200px; margin:0 auto; overflow-wrap:break-word; }
    footer { color:var(--muted); font-size:.8rem; padding:1rem; text-align:center; }
    h1 { font-size:1.35rem; margin:.2rem 0 1rem; }
    h2 { font-size:1.1rem; margin:1.4rem 0 .5rem; }
    .cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(120px, 1fr)); gap:.6rem; margin:0; }
    .cards div { border:1px solid var(--line); border-radius:6px; padding:.5rem .7rem; }
    .cards dt { color:var(--muted); font-size:.85rem; }
    .cards dd { margin:0; font-size:1.6rem; font-weight:700; }
    .cards dd.small { font-size:1rem; font-weight:600; overflow-wrap:anywhere; }
    td.time { white-space:nowrap; }
    .grid2 { display:grid; grid-template-columns:repeat(auto-fit, minmax(320px, 1fr)); gap:1rem; }
    svg { max-width:100%; height:auto; }
    table { border-collapse:collapse; width:100%; }
    th, td { text-align:start; padding:.35rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
    th { font-size:.85rem; color:var(--muted); }
    td.message { max-width:48rem; overflow-wrap:anywhere; }
    td, code { overflow-wrap:anywhere; }
    td.priority, td.count { white-space:nowrap; overflow-wrap:normal; }
    /* Columns of fixed widths: a report's text (a place or a governorate thousands of
       letters long) wraps inside its own cell, and no other row's columns move. */
    table#regions { table-layout:fixed; }
    table#regions th:nth-child(2) { width:6rem; }
    @media (min-width:64rem) {
      table#alerts { table-layout:fixed; }
      table#alerts th:nth-child(1) { width:12.5rem; }
      table#alerts th:nth-child(2) { width:5.5rem; }
      table#alerts th:nth-child(3) { width:17rem; }
      table#alerts th:nth-child(4) { width:9rem; }
    }
    @media (max-width:64rem) {
      table#alerts td.governorate { max-width:8rem; }
    }
    tr.live { background:#fff8d6; }
    .p-critical { color:var(--critical); font-weight:700; } .p-high { color:var(--high); font-weight:700; }
    .p-medium { color:var(--medium); } .p-low { color:var(--low); } .p-info { color:var(--info); }
    form#filters, form#period { display:flex; flex-wrap:wrap; gap:.5rem; align-items:end; margin-bottom:.8rem; }
    form label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); }
    input, select, button { font:inherit; padding:.3rem .4rem; }
    pre { white-space:pre-wrap; overflow-wrap:anywhere; background:#f6f8fa; border:1px solid var(--line); padding:.6rem; border-radius:6px; max-height:40rem; overflow:auto; }
    .ok { color:#1e7e34; font-weight:700; } .bad { color:var(--high); font-weight:700; }
    .muted { color:var(--muted); }
    .pager { margin:.8rem 0; }
    #live-status { font-size:.85rem; color:var(--muted); margin-inline-start:.5rem; }
    .region { stroke:#fff; stroke-width:.6; }
    .point { stroke:#000; stroke-width:.4; }
    .bar { fill:var(--accent); }
    @media (max-width:640px) {
      main { padding:.6rem; }
      table.responsive thead { display:none; }
      table.responsive tr { display:block; border-bottom:1px solid var(--line); padding:.3rem 0; }
      table.responsive td { display:block; border:0; padding:.1rem .2rem; }
    }
    """

  static let script = """
    "use strict";
    // The live alert list: new alerts that pass the page's filters come over server-sent
    // events and go on top of the table. Text goes in as text only.
    (function () {
      var table = document.querySelector("table#alerts tbody");
      var status = document.getElementById("live-status");
      if (!table || !status || !window.EventSource) return;
      if (document.body.dataset.paged === "true") { status.textContent = "older page: not live"; return; }
      var params = new URLSearchParams(window.location.search);
      params.delete("before");
      params.delete("limit");
      var newest = table.dataset.newest || "0";
      params.set("after", newest);
      var source = new EventSource("/api/events?" + params.toString());
      source.onopen = function () { status.textContent = "● live"; };
      // Refused for good (the log replaced since the page loaded: its newest is past the
      // log's), the browser does not try again: the page is loaded afresh instead.
      source.onerror = function () {
        if (source.readyState === source.CLOSED) {
          status.textContent = "reloading…";
          window.setTimeout(function () { window.location.reload(); }, 3000);
        } else {
          status.textContent = "reconnecting…";
        }
      };
      // A page left for another keeps no stream open (Chrome allows six connections to a
      // host); coming back to it from the back/forward cache loads it afresh.
      window.addEventListener("pagehide", function () { source.close(); });
      window.addEventListener("pageshow", function (event) { if (event.persisted) window.location.reload(); });
      source.addEventListener("alert", function (event) {
        var record;
        try { record = JSON.parse(event.data); } catch (e) { return; }
        if (table.querySelector('tr[data-seq="' + String(record.seq) + '"]')) return;
        var row = document.createElement("tr");
        row.className = "live";
        row.dataset.seq = String(record.seq);
        // As HTML.isolatingRightToLeft: each stretch of the direction the message does not
        // run in (its rule's words', message_direction; else its letters' majority) in a
        // <bdi> of its own, from one of its letters to the last before a letter of the
        // other direction, short of a bracket it does not pair.
        function isolateRightToLeft(td, direction) {
          var rtl = /[\\u0590-\\u08FF\\uFB1D-\\uFDFF\\uFE70-\\uFEFF\\u{10800}-\\u{10FFF}\\u{1E800}-\\u{1EFFF}]/u;
          var chars = Array.from(td.textContent);
          var kinds = chars.map(function (c) { return /\\p{L}/u.test(c) ? (rtl.test(c) ? 2 : 1) : 0; });
          var right = kinds.filter(function (k) { return k === 2; }).length;
          var left = kinds.filter(function (k) { return k === 1; }).length;
          if (right === 0 || left === 0) return;
          var runsRightToLeft = direction === "rtl" || (direction !== "ltr" && right > left);
          var mine = runsRightToLeft ? 1 : 2, other = 3 - mine;
          td.textContent = "";
          var i = 0;
          while (i < chars.length) {
            var j = i;
            if (kinds[i] !== mine) {
              while (j < chars.length && kinds[j] !== mine) j++;
              td.appendChild(document.createTextNode(chars.slice(i, j).join("")));
              i = j;
              continue;
            }
            var end = i;
            for (j = i; j < chars.length && kinds[j] !== other; j++) { if (kinds[j] === mine) end = j; }
            // Short of the first bracket not paired within the stretch.
            var pairs = { "(": ")", "[": "]", "{": "}", "\\uFD3E": "\\uFD3F" }, opened = [], paired = {}, cut = -1;
            for (j = i; j <= end; j++) {
              if (pairs[chars[j]]) { opened.push(j); continue; }
              var opener = Object.keys(pairs).filter(function (o) { return pairs[o] === chars[j]; })[0];
              if (opener === undefined) continue;
              if (!opened.length || chars[opened[opened.length - 1]] !== opener) { cut = j; break; }
              opened.pop();
              paired[j] = true;
            }
            if (opened.length && (cut < 0 || opened[0] < cut)) cut = opened[0];
            if (cut >= 0) {
              for (end = cut - 1; end > i && kinds[end] !== mine && !paired[end]; end--) {}
            }
            while (end + 1 < chars.length && /\\p{Mn}/u.test(chars[end + 1])) end++;
            var bdi = document.createElement("bdi");
            bdi.textContent = chars.slice(i, end + 1).join("");
            td.appendChild(bdi);
            i = end + 1;
          }
        }
        function cell(name, text, auto) {
          var td = document.createElement("td");
          td.className = name;
          if (auto) td.setAttribute("dir", "auto");
          // As the server's pages show them (HTML.escape): overrides and isolates as ␣,
          // control characters as �.
          td.textContent = (text == null ? "" : String(text))
            .replace(/[\\u202A-\\u202E\\u2066-\\u2069]/g, "\\u2423")
            .replace(/[\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]/g, "\\uFFFD");
          row.appendChild(td);
          return td;
        }
        var time = cell("time", "");
        var link = document.createElement("a");
        link.href = "/alerts/" + encodeURIComponent(String(record.seq));
        var when = String(record.occurred_at || record.time || "");
        link.title = when;
        // As the server's list shows it: the offset kept, none for UTC.
        // RFC 3339 allows "t" and "z"; "-00:00" is UTC too.
        var offset = /[+-][0-9][0-9]:[0-9][0-9]$/.test(when) && !/[+-]00:00$/.test(when) ? " " + when.slice(-6) : "";
        link.textContent = when.length >= 16 && (when.charAt(10) === "T" || when.charAt(10) === "t") ? when.slice(0, 10) + " " + when.slice(11, 16) + offset : when;
        time.appendChild(link);
        cell("priority p-" + String(record.priority).replace(/[^a-z]/g, ""), record.priority, false);
        cell("rule", record.rule, false);
        cell("governorate", record.region || "", true);
        isolateRightToLeft(cell("message", record.message, true), record.message_direction);
        table.insertBefore(row, table.firstChild);
        var empty = document.getElementById("no-alerts");
        if (empty) empty.remove();
      });
      // More were missed than a catch-up sends: say so, since the table now has a hole.
      source.addEventListener("gap", function (event) {
        var gap;
        try { gap = JSON.parse(event.data); } catch (e) { return; }
        var note = document.getElementById("live-gap") || document.createElement("p");
        note.id = "live-gap";
        note.className = "gap";
        var span = "(seq " + String(Number(gap.after) + 1) + "–" + String(Number(gap.before) - 1) + ")";
        note.textContent = gap.skipped === null
          ? "Older alerts " + span + " were missed while the page was away, some older than the console keeps; "
            + "reload the page to see those it keeps (vigil tail shows them all)."
          : String(Number(gap.skipped) || 0) + " older alerts " + span
            + " were missed while the page was away and are not shown; reload the page to see them.";
        var heading = status.closest("h1") || status;
        heading.parentNode.insertBefore(note, heading.nextSibling);
      });
    })();
    """
}
