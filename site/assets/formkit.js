/* formkit.js: enhances forms that already work without JavaScript.
 * Submits with fetch, shows the error summary and inline errors (GOV.UK pattern), adds and removes
 * repeated rows, counts characters, and keeps what the user typed when sending fails.
 * The checks here come from the HTML attributes and the server's own messages (data-messages);
 * the server stays the authority. */
(function () {
  "use strict";

  var DATE = /^\d{4}-\d{2}-\d{2}$/;
  /* E-mail: the syntax rules of the server's email-validator for ASCII addresses (dot-atom local part,
   * hostname labels, a domain ending in a letter, no special-use domain); like the server, no å, ä, ö. */
  var ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
  var LOCAL = new RegExp("^" + ATEXT + "+(?:\\." + ATEXT + "+)*$");
  var LABEL = /^(?:[A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z0-9]$/;
  var SPECIAL_USE = ["arpa", "invalid", "local", "localhost", "onion", "test"];
  /* Personnummer and samordningsnummer, found exactly as handler/privacy.py finds them: the same
   * character sets, the same one spelling, the same candidates and checks (see its docstring). */
  var SPACES = /[\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu;
  var DASHES = new RegExp("[\\-\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d" +
    "\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\\u{10ead}\u2212\u207b\u208b]", "gu");
  var PLUSES = /[+\u207a\u208a\ufe62\uff0b]/gu;
  var INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/gu;
  var OTHER_DIGIT = /(?![0-9])\p{Nd}/gu;
  var IDENTITY = /(?<![0-9])(?:([0-9]{6}|[0-9]{8})[ +-]+([0-9]{4}|[0-9]{2}[ +-]+[0-9]{2})|([0-9]{10}|[0-9]{12}))(?![0-9])/g;
  var digitValues = {};

  function isEmail(value) {
    if (/[^\x00-\x7f]/.test(value)) return false;
    var at = value.lastIndexOf("@");
    if (at < 1 || value.length > 254) return false;
    var domain = value.slice(at + 1).toLowerCase();
    var labels = domain.split(".");
    if (!LOCAL.test(value.slice(0, at)) || labels.length < 2 || !/[a-z]$/.test(domain)) return false;
    if (!labels.every(function (l) { return l.length <= 63 && LABEL.test(l); })) return false;
    return !SPECIAL_USE.some(function (s) { return domain === s || domain.slice(-s.length - 1) === "." + s; });
  }

  /* The form's allowed_domains: an entry allows itself and its subdomains ("se" allows every .se). */
  function isAllowedDomain(wrapper, value) {
    var form = wrapper.closest("form[data-allowed-domains]");
    if (!form) return true;
    var domain = value.slice(value.lastIndexOf("@") + 1).toLowerCase();
    return form.getAttribute("data-allowed-domains").toLowerCase().split(" ").some(function (allowed) {
      return domain === allowed || domain.slice(-allowed.length - 1) === "." + allowed;
    });
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = Number(digits.charAt(digits.length - 1 - i));
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  /* A decimal digit of any script as 0-9: Unicode's digits come in whole runs from 0 to 9. */
  function digitValue(digit) {
    if (!(digit in digitValues)) {
      var code = digit.codePointAt(0), zero = code;
      while (/^\p{Nd}$/u.test(String.fromCodePoint(zero - 1))) zero--;
      digitValues[digit] = String((code - zero) % 10);
    }
    return digitValues[digit];
  }

  function oneSpelling(text) {
    return text.replace(INVISIBLE, "").replace(SPACES, " ").replace(DASHES, "-").replace(PLUSES, "+")
      .replace(OTHER_DIGIT, digitValue);
  }

  function hasIdentityNumber(text) {
    var match, spelled = oneSpelling(text);
    IDENTITY.lastIndex = 0;
    while ((match = IDENTITY.exec(spelled))) {
      var date = match[1], number = match[2], together = match[3];
      if (together) {
        if (together.length === 10 && together.slice(0, 2) === "07") continue; // a mobile number
        date = together.slice(0, -4);
        number = together.slice(-4);
      } else if (number.length > 4) {
        number = number.slice(0, 2) + number.slice(-2); // two groups of two digits
      }
      if (isIdentityNumber(date, number)) return true;
    }
    return false;
  }
  // The same verdict as the server, for other scripts on the page and for the tests.
  window.formkit = window.formkit || {};
  window.formkit.hasIdentityNumber = hasIdentityNumber;

  function isIdentityNumber(date, number) {
    if (date.length === 8 && ["18", "19", "20"].indexOf(date.slice(0, 2)) < 0) return false;
    var month = Number(date.slice(-4, -2)), day = Number(date.slice(-2));
    if (day > 60) day -= 60; // a samordningsnummer
    var yy = Number(date.slice(-6, -4));
    var years = date.length === 8 ? [Number(date.slice(0, 4))] : [1900 + yy, 2000 + yy];
    return years.some(function (year) { return isRealDay(year, month, day); }) && luhn(date.slice(-6) + number);
  }

  function isRealDay(year, month, day) {
    var d = new Date(Date.UTC(year, month - 1, day));
    return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
  }

  function $(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  function messagesOf(wrapper) {
    try { return JSON.parse(wrapper.getAttribute("data-messages") || "{}"); } catch (e) { return {}; }
  }

  function isRealDate(value) {
    if (!DATE.test(value)) return false;
    var parts = value.split("-").map(Number);
    return isRealDay(parts[0], parts[1], parts[2]);
  }

  function valueOf(wrapper) {
    var controls = $(wrapper, "input, select, textarea");
    var choice = controls.filter(function (c) { return c.type === "radio" || c.type === "checkbox"; });
    if (choice.length) return choice.filter(function (c) { return c.checked; }).map(function (c) { return c.value; }).join(",");
    return controls.length ? controls[0].value.trim() : "";
  }

  function rowOf(element) { return element.closest("[data-formkit-row]"); }
  function rowIndex(row) { return Number(row.getAttribute("data-formkit-row")); }
  /* Rows below the list's minItems must be filled; a list without minItems may be left empty. */
  function rowMinimum(row) { return Number(row.parentNode.getAttribute("data-min")) || 0; }

  function rowIsBlank(row) {
    return $(row, "[data-formkit-field]").every(function (w) { return valueOf(w) === ""; });
  }

  /* Return the message for one field, or "" when it passes the checks the browser can make. */
  function check(wrapper) {
    var messages = messagesOf(wrapper);
    var control = wrapper.querySelector("input, select, textarea");
    if (!control) return "";
    var value = valueOf(wrapper);
    var row = rowOf(wrapper);
    var required = wrapper.hasAttribute("data-required");
    if (required && row) required = rowIndex(row) < rowMinimum(row) || !rowIsBlank(row);
    if (value === "") return required ? messages.required || "Fyll i fältet" : "";
    // In the server's order: format, pattern, minLength, maxLength, then the privacy guard.
    if (control.type === "email" && !isEmail(value)) return messages.format || "";
    if (control.type === "email" && !isAllowedDomain(wrapper, value)) return messages.allowed_domains || "";
    if (control.type === "date" && !isRealDate(value)) return messages.format || "";
    var pattern = control.getAttribute("pattern");
    if (pattern && !new RegExp(pattern, "u").test(value)) return messages.pattern || ""; // JSON Schema: a search
    var min = control.getAttribute("minlength");
    if (min && value.length < Number(min)) return messages.minLength || "";
    var max = control.getAttribute("maxlength") || control.getAttribute("data-maxlength");
    if (max && value.length > Number(max)) return messages.maxLength || "";
    if (control.type === "number") {
      if (!/^[+-]?\d+([.,]\d+)?$/.test(value)) return messages.type || "";
      var number = Number(value.replace(",", "."));
      if (control.hasAttribute("min") && number < Number(control.getAttribute("min"))) return messages.minimum || "";
      if (control.hasAttribute("max") && number > Number(control.getAttribute("max"))) return messages.maximum || "";
      if (control.getAttribute("inputmode") === "numeric" && !/^[+-]?\d+$/.test(value)) return messages.type || "";
    }
    var guarded = wrapper.closest("form[data-privacy-guard]") && (control.tagName === "TEXTAREA" || control.type === "text");
    if (guarded && messages.privacy && hasIdentityNumber(value)) return messages.privacy;
    return "";
  }

  function Form(container) {
    this.container = container;
    this.form = container.querySelector("form");
    this.summary = container.querySelector("[data-formkit-summary]");
    this.status = container.querySelector("[data-formkit-status]");
    this.baseTitle = document.title.replace(/^Fel: /, "");
    // The summary's heading for errors in the answers; problems that are not (network, 429, 503, links) get their own.
    this.errorTitle = this.summary.querySelector("h2").textContent;
    this.form.addEventListener("submit", this.onSubmit.bind(this));
    this.summary.addEventListener("click", this.onSummaryClick.bind(this));
    $(container, "[data-formkit-list]").forEach(this.enhanceList.bind(this));
    $(container, "textarea[data-formkit-count]").forEach(this.enhanceCount.bind(this));
    // Pasted text is not cut silently at maxlength: the check says how much too long it is (GOV.UK).
    $(container, "input[maxlength]").forEach(function (input) {
      input.setAttribute("data-maxlength", input.getAttribute("maxlength"));
      input.removeAttribute("maxlength");
    });
    if (!this.summary.hidden) { document.title = "Fel: " + this.baseTitle; this.summary.focus(); }
  }

  /* Rows after the minimum are optional: their fields are required only once the row is used. */
  Form.prototype.markRowRequirements = function (list) {
    $(list, ":scope > [data-formkit-row]").forEach(function (row) {
      var needed = rowIndex(row) < rowMinimum(row);
      $(row, "[data-formkit-field][data-required]").forEach(function (w) {
        $(w, "input:not([type=checkbox]), select, textarea").forEach(function (c) {
          if (needed) c.setAttribute("required", ""); else c.removeAttribute("required");
        });
        var mark = w.querySelector(".formkit-required");
        if (mark) mark.hidden = !needed;
      });
    });
  };

  Form.prototype.announce = function (text) {
    var status = this.status;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  };

  /* ---- repeated rows ---- */

  Form.prototype.enhanceList = function (list) {
    var self = this;
    var rows = $(list, ":scope > [data-formkit-row]");
    var keep = Math.max(Number(list.getAttribute("data-min")) || 0, 1);
    // The no-JS page shows a few blank rows; with JS, show only what is needed and let the user add.
    for (var i = rows.length - 1; i >= keep; i--) {
      if (rowIsBlank(rows[i]) && !rows[i].querySelector("[aria-invalid]")) { rows[i].remove(); } else { break; }
    }
    this.template = this.template || {};
    this.template[list.id] = rows[0].cloneNode(true);
    var add = document.createElement("button");
    add.type = "button";
    add.className = "md-button formkit-add";
    add.textContent = "Lägg till " + list.getAttribute("data-item-label");
    add.addEventListener("click", function () { self.addRow(list); });
    list.appendChild(add);
    list.formkitAdd = add;
    this.renumber(list);
  };

  Form.prototype.addRow = function (list) {
    var rows = $(list, ":scope > [data-formkit-row]");
    if (rows.length >= Number(list.getAttribute("data-max"))) return;
    var row = this.template[list.id].cloneNode(true);
    $(row, "input, select, textarea").forEach(function (c) {
      if (c.type === "radio" || c.type === "checkbox") c.checked = false; else c.value = "";
      c.removeAttribute("aria-invalid");
    });
    $(row, ".formkit-error-message").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    $(row, ".formkit-field--error").forEach(function (w) { w.classList.remove("formkit-field--error"); });
    $(row, ".formkit-remove").forEach(function (b) { b.remove(); });
    list.insertBefore(row, list.formkitAdd);
    this.renumber(list);
    var first = row.querySelector("input, select, textarea");
    if (first) first.focus();
    this.announce(row.querySelector("legend").textContent + " har lagts till.");
  };

  Form.prototype.removeRow = function (list, row) {
    var rows = $(list, ":scope > [data-formkit-row]");
    var index = rows.indexOf(row);
    var name = row.querySelector("legend").textContent;
    row.remove();
    this.renumber(list);
    rows = $(list, ":scope > [data-formkit-row]");
    var next = rows[Math.min(index, rows.length - 1)];
    var target = index < rows.length ? next.querySelector("input, select, textarea") : list.formkitAdd;
    (target || list.formkitAdd).focus();
    this.announce(name + " har tagits bort.");
  };

  /* Give every row its number again: legend, names, ids, label targets and button names. */
  Form.prototype.renumber = function (list) {
    var self = this;
    var base = list.getAttribute("data-formkit-list");
    var baseId = "f-" + base.replace(/\./g, "-");
    var rows = $(list, ":scope > [data-formkit-row]");
    var min = Math.max(Number(list.getAttribute("data-min")) || 0, 1);
    var itemLabel = list.getAttribute("data-item-label");
    rows.forEach(function (row, index) {
      var old = row.getAttribute("data-formkit-row");
      var oldName = base + "." + old + ".";
      var newName = base + "." + index + ".";
      var oldId = baseId + "-" + old + "-";
      var newId = baseId + "-" + index + "-";
      row.setAttribute("data-formkit-row", String(index));
      row.id = baseId + "-" + index;
      var legend = row.querySelector("legend");
      legend.textContent = legend.textContent.replace(/\d+$/, String(index + 1));
      $(row, "[name]").forEach(function (c) { c.name = c.name.replace(oldName, newName); });
      $(row, "[data-formkit-field]").forEach(function (w) {
        w.setAttribute("data-formkit-field", w.getAttribute("data-formkit-field").replace(oldName, newName));
      });
      ["id", "for", "aria-describedby", "href"].forEach(function (attribute) {
        $(row, "[" + attribute + "]").forEach(function (e) {
          e.setAttribute(attribute, e.getAttribute(attribute).split(oldId).join(newId));
        });
      });
      var remove = row.querySelector(":scope > .formkit-remove");
      if (rows.length > min) {
        if (!remove) {
          remove = document.createElement("button");
          remove.type = "button";
          remove.className = "md-button formkit-remove";
          remove.addEventListener("click", function () { self.removeRow(list, row); });
          row.appendChild(remove);
        }
        remove.innerHTML = "";
        remove.appendChild(document.createTextNode("Ta bort "));
        var which = document.createElement("span");
        which.className = "formkit-visually-hidden";
        which.textContent = itemLabel + " " + (index + 1);
        remove.appendChild(which);
      } else if (remove) {
        remove.remove();
      }
    });
    if (list.formkitAdd) list.formkitAdd.hidden = rows.length >= Number(list.getAttribute("data-max"));
    this.markRowRequirements(list);
  };

  /* ---- character count ---- */

  Form.prototype.enhanceCount = function (textarea) {
    var max = Number(textarea.getAttribute("maxlength"));
    var count = document.getElementById(textarea.id + "-count");
    var live = document.createElement("div");
    live.className = "formkit-visually-hidden";
    live.setAttribute("aria-live", "polite");
    count.parentNode.insertBefore(live, count.nextSibling);
    var timer = null;
    function update() {
      var left = max - textarea.value.length;
      var text = left >= 0 ? "Du har " + left + " tecken kvar av " + max + "." : "Du har " + -left + " tecken för mycket.";
      count.textContent = text;
      count.classList.toggle("formkit-count--over", left < 0);
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { live.textContent = text; }, 1000);
    }
    // Let the browser accept more than maxlength so pasted text is not cut silently; the count says so.
    textarea.removeAttribute("maxlength");
    textarea.setAttribute("data-maxlength", String(max));
    textarea.addEventListener("input", update);
    update();
    live.textContent = "";
  };

  /* ---- errors ---- */

  Form.prototype.clearErrors = function () {
    this.summary.querySelector("h2").textContent = this.errorTitle;
    $(this.container, ".formkit-field--error").forEach(function (w) { w.classList.remove("formkit-field--error"); });
    $(this.container, "[aria-invalid]").forEach(function (c) { c.removeAttribute("aria-invalid"); });
    $(this.container, ".formkit-error-message").forEach(function (p) {
      p.hidden = true;
      p.textContent = "";
      $(this.container, "[aria-describedby~='" + p.id + "']").forEach(function (c) {
        var ids = c.getAttribute("aria-describedby").split(" ").filter(function (id) { return id !== p.id; });
        if (ids.length) c.setAttribute("aria-describedby", ids.join(" ")); else c.removeAttribute("aria-describedby");
      });
    }, this);
    this.summary.hidden = true;
    this.summary.querySelector("ul").innerHTML = "";
    this.showNotice("");
    document.title = this.baseTitle;
  };

  /* A notice above the error list, e.g. that the form changed after the page was loaded. */
  Form.prototype.showNotice = function (text) {
    var notice = this.summary.querySelector("[data-formkit-notice]");
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = !text;
  };

  /* Show errors: [{name, message, summary}] in form order, and an optional notice above them. */
  Form.prototype.showErrors = function (errors, notice) {
    var self = this;
    this.clearErrors();
    this.showNotice(notice || "");
    var list = this.summary.querySelector("ul");
    errors.forEach(function (error) {
      var id = "f-" + error.name.replace(/\./g, "-");
      var wrapper = self.container.querySelector('[data-formkit-field="' + error.name + '"]') || document.getElementById(id);
      var message = document.getElementById(id + "-error");
      if (wrapper && message) {
        wrapper.classList.add("formkit-field--error");
        message.hidden = false;
        message.innerHTML = '<span class="formkit-visually-hidden">Fel: </span>';
        message.appendChild(document.createTextNode(error.message));
        $(wrapper, "input, select, textarea").forEach(function (c) {
          if (c.type === "hidden") return;
          c.setAttribute("aria-invalid", "true");
          var ids = (c.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
          if (ids.indexOf(message.id) < 0) ids.push(message.id);
          c.setAttribute("aria-describedby", ids.join(" "));
        });
      }
      var item = document.createElement("li");
      var link = document.createElement("a");
      var target = wrapper && wrapper.querySelector("input:not([type=hidden]), select, textarea");
      link.href = "#" + (target ? target.id : id);
      link.textContent = error.summary || error.message;
      item.appendChild(link);
      list.appendChild(item);
    });
    this.summary.hidden = false;
    document.title = "Fel: " + this.baseTitle;
    this.summary.focus();
  };

  Form.prototype.onSummaryClick = function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    var label = document.querySelector("label[for='" + target.id + "']");
    var legend = target.closest("fieldset") && target.closest("fieldset").querySelector("legend");
    (label || legend || target).scrollIntoView();
    target.focus({ preventScroll: true });
  };

  Form.prototype.validate = function () {
    var errors = [];
    $(this.container, "[data-formkit-field]").forEach(function (wrapper) {
      var message = check(wrapper);
      if (message) {
        var row = rowOf(wrapper);
        var context = row ? row.querySelector("legend").textContent : "";
        if (!context) {
          var group = wrapper.parentNode.closest("fieldset.formkit-group");
          context = group ? group.querySelector("legend").textContent.replace(/^\d+\.\s*/, "") : "";
        }
        errors.push({ name: wrapper.getAttribute("data-formkit-field"), message: message,
                      summary: context ? message + " (" + context + ")" : message });
      }
    });
    return errors;
  };

  /* ---- sending ---- */

  Form.prototype.onSubmit = function (event) {
    event.preventDefault();
    var self = this;
    if (this.sending) return;
    var errors = this.validate();
    if (errors.length) { this.showErrors(errors); return; }
    this.clearErrors();
    this.sending = true;
    var button = this.form.querySelector("[type=submit]");
    button.disabled = true;
    this.announce("Skickar …");
    var body = new URLSearchParams(new FormData(this.form));
    fetch(this.form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data, retryAfter: response.headers.get("Retry-After") };
      });
    }).then(function (result) {
      self.sending = false;
      button.disabled = false;
      if (result.status === 201) return self.showReceipt(result.data);
      if (result.status === 422 && result.data.errors) {
        return self.showErrors(result.data.errors.map(function (e) {
          return { name: e.name, message: e.message, summary: e.summary || e.message };
        }), result.data.form_changed ? result.data.detail : "");
      }
      self.showProblem(result.data.detail || "Formuläret kunde inte skickas.", result.retryAfter, result.data.title);
    }).catch(function () {
      self.sending = false;
      button.disabled = false;
      self.showProblem("Det gick inte att nå servern. Kontrollera anslutningen.", null, "Det gick inte att nå servern");
    });
  };

  /* A problem that is not about the answers (the server's problem title, e.g. "För många försök"), under its own
   * heading: "Det finns fel i formuläret" would send the user looking for a field to correct. */
  Form.prototype.showProblem = function (detail, retryAfter, title) {
    this.clearErrors();
    var list = this.summary.querySelector("ul");
    this.summary.querySelector("h2").textContent = (title || "Formuläret kunde inte skickas") + ": formuläret är inte skickat";
    var item = document.createElement("li");
    var wait = retryAfter ? " Försök igen om " + retryAfter + " sekunder." : " Försök igen.";
    item.textContent = detail + " Det du har skrivit finns kvar." + wait;
    list.appendChild(item);
    this.summary.hidden = false;
    document.title = "Inte skickat: " + this.baseTitle;
    this.summary.focus();
  };

  Form.prototype.showReceipt = function (data) {
    var panel = document.createElement("div");
    panel.className = "formkit-receipt";
    panel.setAttribute("data-formkit-receipt", "");
    var heading = document.createElement("h2");
    heading.tabIndex = -1;
    heading.textContent = data.title || "Tack, din rapport är skickad";
    var reference = document.createElement("p");
    reference.className = "formkit-receipt-reference";
    reference.appendChild(document.createTextNode("Referens: "));
    var strong = document.createElement("strong");
    strong.setAttribute("data-formkit-reference", "");
    strong.textContent = data.reference;
    reference.appendChild(strong);
    panel.appendChild(heading);
    panel.appendChild(reference);
    if (data.receipt) {
      var text = document.createElement("p");
      text.textContent = data.receipt;
      panel.appendChild(text);
    }
    this.container.innerHTML = "";
    this.container.appendChild(panel);
    document.title = "Skickat: " + this.baseTitle;
    heading.focus();
  };

  /* ---- the theme's menu and search buttons ----
   * Material opens its menu (on narrow screens and when zoomed) and its search with <label>s for hidden
   * checkboxes, which the keyboard cannot reach, and a <label> may not take the role of a button (ARIA in HTML).
   * Put a real button in each label's place (the label stays, hidden, for Material's own scripts): named, saying
   * whether it is open, toggling the checkbox as the label did. What they open takes the focus and gives it back
   * on Escape; the menu also closes when the focus leaves it. The search form can be submitted: it goes to the
   * best result, as Enter in Material's search does. */
  function enhanceThemeToggles() {
    var sidebar = document.querySelector(".md-sidebar--primary");
    var buttons = {};
    [["__drawer", "Meny"], ["__search", "Sök"]].forEach(function (pair) {
      var toggle = document.getElementById(pair[0]);
      var label = document.querySelector(".md-header label.md-header__button[for='" + pair[0] + "']");
      if (!toggle || !label) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = label.className + " formkit-toggle";
      button.setAttribute("data-formkit-toggle", pair[0]);
      button.setAttribute("aria-label", pair[1]);
      button.innerHTML = label.innerHTML;
      label.parentNode.insertBefore(button, label);
      label.hidden = true;
      buttons[pair[0]] = button;
      function update() { button.setAttribute("aria-expanded", String(toggle.checked)); }
      toggle.addEventListener("change", update);
      button.addEventListener("click", function () {
        toggle.checked = !toggle.checked;
        toggle.dispatchEvent(new Event("change"));
        update();
        if (!toggle.checked) return;
        var inside = pair[0] === "__drawer" ? sidebar && sidebar.querySelector("a[href]")
          : document.querySelector(".md-search__input");
        if (inside) inside.focus();
      });
      // Material closes its search on Escape and drops the focus; give it back to the button that opened it.
      document.addEventListener("keydown", function (event) {
        if (event.key !== "Escape" || !toggle.checked) return;
        window.setTimeout(function () {
          update();
          if (!toggle.checked && button.offsetParent && document.activeElement === document.body) button.focus();
        }, 0);
      }, true);
      update();
    });
    var search = document.querySelector("form.md-search__form");
    if (search) {
      search.addEventListener("submit", function (event) {
        event.preventDefault();
        var best = search.parentNode.querySelector(".md-search-result__list [href]");
        if (best) best.click();
      });
    }
    var drawer = document.getElementById("__drawer");
    var menu = buttons.__drawer;
    if (!drawer || !menu || !sidebar) return;
    function close(returnFocus) {
      if (!drawer.checked) return;
      drawer.checked = false;
      drawer.dispatchEvent(new Event("change"));
      if (returnFocus) menu.focus();
    }
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") close(sidebar.contains(document.activeElement));
    });
    document.addEventListener("focusin", function (event) {
      if (!sidebar.contains(event.target) && event.target !== menu) close(false);
    });
  }

  function start() {
    enhanceThemeToggles();
    $(document, "[data-formkit]").forEach(function (c) { new Form(c); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
