// A table that only builds the rows in sight: one spacer as tall as every row, a small pool of row elements
// moved and refilled on scroll. Cost per frame depends on the window height, not on the record count.

export class VirtualTable {
  constructor({ viewport, spacer, rowsBox, columns, rowHeight, onSelect }) {
    this.viewport = viewport;
    this.spacer = spacer;
    this.rowsBox = rowsBox;
    this.columns = columns;
    this.rowHeight = rowHeight;
    this.onSelect = onSelect;
    this.rows = [];
    this.data = [];
    this.selectedKey = undefined;
    this.needsRender = true;
    viewport.addEventListener("scroll", () => (this.needsRender = true), { passive: true });
    new ResizeObserver(() => (this.needsRender = true)).observe(viewport);
    rowsBox.addEventListener("click", (ev) => {
      const row = ev.target.closest(".row");
      if (row?.dataset.key) this.onSelect(row.dataset.key);
    });
  }

  setData(data) {
    this.data = data;
    this.spacer.style.height = `${data.length * this.rowHeight}px`;
    this.needsRender = true;
  }

  select(key) {
    this.selectedKey = key;
    this.needsRender = true;
  }

  /** Index of a key in the current data, for scrolling a record into sight. */
  scrollTo(key) {
    const i = this.data.findIndex((r) => r.key === key);
    if (i >= 0) this.viewport.scrollTop = Math.max(0, i * this.rowHeight - this.viewport.clientHeight / 2);
  }

  render() {
    const h = this.rowHeight;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / h) - 5);
    const count = Math.ceil(this.viewport.clientHeight / h) + 10;
    while (this.rows.length < count) {
      const row = document.createElement("div");
      row.className = "row";
      row.setAttribute("role", "row");
      for (const col of this.columns) {
        const cell = document.createElement("div");
        cell.className = `cell c-${col.id}`;
        cell.setAttribute("role", "cell");
        row.appendChild(cell);
      }
      this.rowsBox.appendChild(row);
      this.rows.push(row);
    }
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i];
      const rec = i < count ? this.data[first + i] : undefined;
      if (rec === undefined) {
        row.style.display = "none";
        row.dataset.key = "";
        continue;
      }
      row.style.display = "";
      row.style.transform = `translateY(${(first + i) * h}px)`;
      row.dataset.key = rec.key;
      row.dataset.state = rec.state;
      row.classList.toggle("selected", rec.key === this.selectedKey);
      row.classList.toggle("disabled", !rec.enabled);
      this.columns.forEach((col, c) => {
        const text = col.text(rec);
        const cell = row.children[c];
        if (cell.textContent !== text) cell.textContent = text;
      });
    }
    this.needsRender = false;
  }
}
