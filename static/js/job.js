// Live job progress: poll the API until the job finishes; no page reload. When the status changes
// (queued -> running -> a final state) the page's details (times, attempts, report summary with
// links, artifacts, provenance) are fetched again as server-rendered HTML (?fragment=1) and swapped in.
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const api = root.dataset.api;
  let shownStatus = root.dataset.status;
  const finished = new Set(["succeeded", "failed", "cancelled"]);
  const $ = (id) => document.getElementById(id);
  function fmtEta(s) {
    if (s === null || s === undefined) return "";
    if (s < 90) return `about ${Math.round(s)} s left`;
    return `about ${Math.round(s / 60)} min left`;
  }
  async function poll() {
    let job;
    try {
      const response = await fetch(api, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.status);
      job = await response.json();
    } catch (err) {
      setTimeout(poll, 3000);
      return;
    }
    const status = $("job-status");
    status.textContent = job.status;
    status.className = `badge ${job.status}`;
    $("job-stage").textContent = job.stage || "—";
    const total = job.progress_total;
    $("job-progress").textContent = `${job.progress_done}${total ? " / " + total : ""} ${job.progress_unit}`;
    $("job-bar").style.width = `${total ? Math.min(100, (100 * job.progress_done) / total) : 0}%`;
    $("job-eta").textContent = finished.has(job.status) ? "" : fmtEta(job.eta_seconds);
    const error = $("job-error");
    error.hidden = !job.error_summary;
    error.textContent = job.error_summary || "";
    if (job.status !== shownStatus && (await refreshDetails())) shownStatus = job.status;
    if (finished.has(job.status) && job.status === shownStatus) return;
    setTimeout(poll, 1000);
  }
  // The details as the server renders them now; false (and the next poll tries again) on failure.
  async function refreshDetails() {
    try {
      const url = new URL(window.location.href);
      url.searchParams.set("fragment", "1");
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      if (!response.ok) return false;
      const html = await response.text();
      const details = $("job-details");
      const open = $("job-raw-report") && $("job-raw-report").open;
      details.innerHTML = html;
      if (open && $("job-raw-report")) $("job-raw-report").open = true;
      return true;
    } catch (err) {
      return false;
    }
  }
  poll();
})();
