// Shows the progress of a running ingest on the admin page by polling its status, and reloads the page
// when it is done so that the corpus status and the document list are current. All text is set as text.
(() => {
  const box = document.getElementById("edistyminen");
  if (!box) return;
  const bar = document.getElementById("edistymispalkki");
  const label = document.getElementById("edistymisteksti");

  const describe = (s) => {
    if (s.state === "running" && s.phase === "lexical") return "Luetaan tiedostoja…";
    if (s.state === "running") return s.total ? `Lasketaan upotuksia: ${s.done}/${s.total} kappaletta` : "Tarkistetaan hakuindeksiä…";
    if (s.state === "failed") return `Päivitys epäonnistui: ${s.error || "tuntematon virhe"}`;
    if (s.state === "done") return "Päivitys valmis.";
    return "";
  };

  const poll = async () => {
    let state;
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      state = await response.json();
    } catch (error) {
      label.textContent = "Päivityksen tilaa ei saatu. Yritetään uudelleen…";
      setTimeout(poll, 3000);
      return;
    }
    label.textContent = describe(state);
    bar.hidden = state.state !== "running";
    if (state.total) { bar.max = state.total; bar.value = state.done; } else { bar.removeAttribute("value"); }
    if (state.state === "running") setTimeout(poll, 1000);
    else if (box.dataset.state === "running") window.location.replace("/admin");
  };

  if (box.dataset.state === "running") poll();
})();

// Removing a document deletes its file: ask first.
document.querySelectorAll("form.poista").forEach((form) => {
  form.addEventListener("submit", (event) => {
    const docId = form.querySelector("input[name=doc_id]").value;
    if (!window.confirm(`Poistetaanko ${docId} aineistosta? Tiedosto poistetaan.`)) event.preventDefault();
  });
});
