// Azera's voice in the browser: plays a reply sentence by sentence, and push-to-talk into the composer.
//
// play(urls, label): the server's list of same-origin WAV URLs, one per sentence. Part 0 plays at once while
// part 1 is fetched (the server synthesizes and caches it), so speech starts after one sentence, not after all.
// Microphone: hold the #mic button (pointer, Space or Enter); MediaRecorder records, release sends the
// recording to /api/stt/transcribe as JSON and the words are added to the #composer text.
(function () {
  "use strict";
  const state = { urls: [], index: 0, label: "", recorder: null, chunks: [], holding: false };

  function el(id) {
    return document.getElementById(id);
  }

  function show(id, text, isError) {
    const node = el(id);
    if (!node) return;
    node.textContent = text || "";
    node.setAttribute("data-error", isError ? "1" : "0");
    node.style.color = isError ? "var(--red-11)" : "";
  }

  async function reason(response) {
    try {
      const body = await response.json();
      return typeof body.detail === "string" ? body.detail : response.statusText;
    } catch (error) {
      return response.statusText || "the server did not answer";
    }
  }

  function playPart(audio) {
    const url = state.urls[state.index];
    audio.src = url;
    audio.setAttribute("data-part", String(state.index));
    const next = state.urls[state.index + 1];
    if (next) fetch(next, { credentials: "same-origin" }).catch(function () {}); // synthesized while this one plays
    audio.play().catch(function (error) {
      if (error.name === "NotAllowedError") show("voice-status", "The browser blocked playback: click the speaker again", true);
    });
  }

  function play(urls, label) {
    const audio = el("voice-audio");
    const bar = el("voice-player");
    if (!audio || !urls.length) return;
    state.urls = urls;
    state.index = 0;
    state.label = label;
    if (bar) bar.style.display = "flex";
    show("voice-status", "Speaking (" + label + ")", false);
    playPart(audio);
  }

  function stop() {
    const audio = el("voice-audio");
    state.urls = [];
    if (audio) {
      audio.pause();
      audio.removeAttribute("src");
    }
    const bar = el("voice-player");
    if (bar) bar.style.display = "none";
  }

  document.addEventListener(
    "ended",
    function (event) {
      if (event.target.id !== "voice-audio") return;
      const audio = event.target;
      audio.setAttribute("data-played", String(Number(audio.getAttribute("data-played") || "0") + 1));
      state.index += 1;
      if (state.index < state.urls.length) playPart(audio);
      else show("voice-status", "Done (" + state.label + ")", false);
    },
    true
  );

  document.addEventListener(
    "error",
    async function (event) {
      if (event.target.id !== "voice-audio" || !state.urls.length) return;
      const url = state.urls[state.index];
      const response = await fetch(url, { credentials: "same-origin" });
      show("voice-status", response.ok ? "This audio could not be played" : await reason(response), true);
    },
    true
  );

  function base() {
    const mic = el("mic");
    return (mic && mic.getAttribute("data-api-base")) || "";
  }

  function blobToBase64(blob) {
    return new Promise(function (resolve, reject) {
      const reader = new FileReader();
      reader.onload = function () {
        resolve(String(reader.result).split(",", 2)[1] || "");
      };
      reader.onerror = reject;
      reader.readAsDataURL(blob);
    });
  }

  async function transcribe(blob) {
    show("mic-status", "Transcribing…", false);
    let response;
    try {
      const audio = await blobToBase64(blob);
      response = await fetch(base() + "/api/stt/transcribe", {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ audio: audio }),
      });
    } catch (error) {
      show("mic-status", "Speech to text is not reachable: " + error.message, true);
      return;
    }
    if (!response.ok) {
      show("mic-status", await reason(response), true);
      return;
    }
    const said = await response.json();
    const box = el("composer");
    if (box) {
      box.value = (box.value.trim() ? box.value.trimEnd() + " " : "") + said.text;
      box.focus();
    }
    show("mic-status", "", false);
  }

  async function startRecording() {
    if (state.recorder || state.holding) return;
    state.holding = true;
    const mic = el("mic");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      state.holding = false;
      const why =
        error.name === "NotAllowedError"
          ? "Microphone permission denied: allow the microphone for this site in the browser's settings"
          : "No microphone available (" + (error.message || error.name) + ")";
      show("mic-status", why, true);
      return;
    }
    if (!state.holding) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      show("mic-status", "Hold the microphone button while you speak", true);
      return;
    }
    const recorder = new MediaRecorder(stream);
    state.chunks = [];
    recorder.ondataavailable = function (event) {
      if (event.data && event.data.size) state.chunks.push(event.data);
    };
    recorder.onstop = function () {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      if (mic) mic.setAttribute("data-recording", "0");
      transcribe(new Blob(state.chunks, { type: recorder.mimeType || "audio/webm" }));
    };
    state.recorder = recorder;
    recorder.start(250);
    if (mic) mic.setAttribute("data-recording", "1");
    show("mic-status", "Listening… release to stop", false);
  }

  function stopRecording() {
    state.holding = false;
    const recorder = state.recorder;
    state.recorder = null;
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }

  document.addEventListener("pointerdown", function (event) {
    if (event.target.closest && event.target.closest("#mic")) {
      event.preventDefault();
      startRecording();
    }
  });
  document.addEventListener("pointerup", function () {
    if (state.holding) stopRecording();
  });
  document.addEventListener("keydown", function (event) {
    if ((event.key === " " || event.key === "Enter") && event.target.id === "mic" && !event.repeat) {
      event.preventDefault();
      startRecording();
    }
  });
  document.addEventListener("keyup", function (event) {
    if ((event.key === " " || event.key === "Enter") && event.target.id === "mic") stopRecording();
  });

  window.azeraVoice = { play: play, stop: stop, startRecording: startRecording, stopRecording: stopRecording };
})();
