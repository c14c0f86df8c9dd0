"""Voice activity with silero-vad's bundled model: speech probability per frame, segments.

silero-vad ships its model inside the wheel, so nothing is downloaded. Its 16 kHz network
(silero-vad 6: a fixed STFT, four convolutions, an LSTM cell and a sigmoid) is small enough
to run in numpy: its weights are read from the wheel's TorchScript archive
(``silero_vad.jit``, a zip of pickled tensors) without importing torch or the package.
Importing torch to run that archive took 1.6 s of every ``generate`` here (3.0 s with a cold
disk cache), a tenth of a 60 s speech's whole command. The probabilities are the TorchScript
model's to within 3e-6 on the shared speeches (the tests allow 2e-5); the wheel's other
weight files are other trainings (its ``silero_vad_16k.safetensors`` differs from the archive
by up to 0.45).

The network reads 512-sample windows (32 ms) at 16 kHz one after another, each with the 64
samples before it, and carries its LSTM state from one to the next. Everything but the LSTM
runs on :data:`BLOCK` windows at once (about 40 MB of work arrays however long the audio);
the LSTM's 128 units step through them.
"""

from __future__ import annotations

import collections
import importlib.util
import io
import pickle
import threading
import zipfile
from pathlib import Path

import numpy as np

VAD_SR = 16000
WINDOW = 512   # samples per model step at 16 kHz (32 ms)
CONTEXT = 64   # samples of the window before that each step also reads
_HOP = 128     # the STFT's hop and ...
_FFT = 256     # ... length (its basis: 129 real rows, then 129 imaginary)
BLOCK = 2048   # windows (65 s) run through the convolutions at once
_ARCHIVE = "silero_vad.jit"
_SHAPES = {"stft": (258, 256), "conv1.weight": (128, 129, 3), "conv2.weight": (64, 128, 3),
           "conv3.weight": (64, 64, 3), "conv4.weight": (128, 64, 3), "w_ih": (512, 128),
           "w_hh": (512, 128), "b": (512,), "final_w": (128,)}
_lock = threading.Lock()      # the weights are read once
_model: dict[str, np.ndarray] | None = None


class _Scripted:
    """An object of the TorchScript archive's pickle (a module): its attributes, no code."""


class _Unpickler(pickle.Unpickler):
    """Reads a TorchScript archive's ``data.pkl`` without torch: modules become
    :class:`_Scripted` objects, tensors numpy arrays over the archive's storages."""

    _DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
               "LongStorage": np.int64, "IntStorage": np.int32, "BoolStorage": np.bool_}

    def __init__(self, archive: zipfile.ZipFile, prefix: str):
        super().__init__(io.BytesIO(archive.read(prefix + "data.pkl")))
        self.archive, self.prefix = archive, prefix

    def find_class(self, module: str, name: str):
        if module.startswith("__torch__"):
            return type(name, (_Scripted,), {})
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _tensor
        if module == "torch" and name in self._DTYPES:
            return self._DTYPES[name]
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch.jit._pickle":     # build_intlist, restore_type_tag ...
            return (lambda value, *_: value)
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in silero-vad's model")

    def persistent_load(self, pid):
        _, dtype, key, _, numel = pid
        raw = self.archive.read(f"{self.prefix}data/{key}")
        return np.frombuffer(raw, dtype, numel)


def _tensor(storage, offset, size, stride, *_):
    """A tensor as a numpy array (a copy) over its storage, which it must lie within."""
    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    last = offset + sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else offset
    if offset < 0 or min(stride, default=0) < 0 or (all(size) and last >= len(storage)):
        raise pickle.UnpicklingError("a tensor reaches past its storage")
    item = storage.itemsize
    return np.lib.stride_tricks.as_strided(storage[offset:], size,
                                           tuple(st * item for st in stride)).copy()


def _read_scripted(path: Path) -> dict[str, np.ndarray]:
    """The 16 kHz network's weights from silero-vad's TorchScript archive."""
    with zipfile.ZipFile(path) as z:
        prefix = next(n for n in z.namelist() if n.endswith("/data.pkl"))[:-len("data.pkl")]
        net = _Unpickler(z, prefix).load()._model
    out = {"stft": net.stft.forward_basis_buffer[:, 0]}                      # (258, 256)
    for i in range(4):
        conv = getattr(net.encoder, str(i)).reparam_conv
        out[f"conv{i + 1}.weight"], out[f"conv{i + 1}.bias"] = conv.weight, conv.bias
    rnn = net.decoder.rnn
    out.update(w_ih=rnn.weight_ih, w_hh=rnn.weight_hh, b=rnn.bias_ih + rnn.bias_hh)
    final = getattr(net.decoder.decoder, "2")
    out.update(final_w=final.weight[0, :, 0], final_b=final.bias[0])
    for name, shape in _SHAPES.items():
        if out[name].shape != shape:
            raise ValueError(f"{name} has shape {out[name].shape}, not {shape}")
    return {k: np.ascontiguousarray(v, np.float32) for k, v in out.items()}


def _get_model() -> dict[str, np.ndarray]:
    """The 16 kHz network's weights, read once per process (about 1.2 MB)."""
    global _model
    if _model is None:
        spec = importlib.util.find_spec("silero_vad")
        path = (Path(spec.submodule_search_locations[0]) / "data" / _ARCHIVE
                if spec and spec.submodule_search_locations else None)
        if path is None or not path.is_file():
            raise RuntimeError(f"silero-vad's model ({_ARCHIVE}) is not installed; install "
                               "the project again (./setup.sh)")
        try:
            _model = _read_scripted(path)
        except (KeyError, AttributeError, StopIteration, pickle.UnpicklingError, ValueError,
                TypeError, IndexError, zipfile.BadZipFile) as e:
            raise RuntimeError(f"silero-vad's model {path} is not the network this reader "
                               f"knows (silero-vad 6): {e!r}; install silero-vad 6") from e
    return _model


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, stride: int) -> np.ndarray:
    """Conv1d (kernel 3, padding 1) of ``x (N, C_in, L)`` with ``w (C_out, C_in, 3)``, then
    ReLU."""
    n, c, length = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1)))
    out_len = (length - 1) // stride + 1
    cols = np.stack([xp[:, :, k:k + stride * (out_len - 1) + 1:stride] for k in range(3)],
                    axis=-1)                                        # (N, C_in, L_out, 3)
    cols = cols.transpose(0, 2, 1, 3).reshape(n, out_len, c * 3)
    y = cols.reshape(n * out_len, -1) @ w.reshape(len(w), -1).T + b  # (N L_out, C_out)
    return np.maximum(y, 0.0).reshape(n, out_len, -1).transpose(0, 2, 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _encoded(windows: np.ndarray, before: np.ndarray, m: dict[str, np.ndarray]) -> np.ndarray:
    """The LSTM's input ``(N, 512)`` for consecutive windows ``(N, 512)``, the first read with
    the ``before`` samples ``(64,)`` ahead of it; ``m``: the weights (:func:`_get_model`)."""
    n = len(windows)
    context = np.empty((n, CONTEXT), np.float32)
    context[0] = before
    context[1:] = windows[:-1, -CONTEXT:]
    x = np.pad(np.concatenate([context, windows], axis=1), ((0, 0), (0, CONTEXT)),
               mode="reflect")                                      # (N, 640)
    starts = np.arange((x.shape[1] - _FFT) // _HOP + 1) * _HOP
    frames = x[:, starts[:, None] + np.arange(_FFT)]                 # (N, 4, 256)
    spec = (frames.reshape(-1, _FFT) @ m["stft"].T).reshape(n, len(starts), -1)  # (N, 4, 258)
    half = _FFT // 2 + 1
    h = np.sqrt(spec[..., :half] ** 2 + spec[..., half:] ** 2).transpose(0, 2, 1)
    for i, stride in zip(range(1, 5), (1, 2, 2, 1)):
        h = _conv(h, m[f"conv{i}.weight"], m[f"conv{i}.bias"], stride=stride)
    return h[:, :, 0] @ m["w_ih"].T + m["b"]          # (the convolutions leave one step)


def _network(windows: np.ndarray, m: dict[str, np.ndarray], *, progress=None) -> np.ndarray:
    """Speech probability ``(N,)`` of consecutive windows ``(N, 512)``, from a fresh state,
    :data:`BLOCK` windows at a time (``m``: the weights; ``progress``: a tqdm bar, updated
    per block)."""
    n = len(windows)
    w_hh = m["w_hh"].T
    u = w_hh.shape[0]
    h_t = np.zeros(u, np.float32)
    c_t = np.zeros(u, np.float32)
    hidden = np.zeros((n, u), np.float32)
    before = np.zeros(CONTEXT, np.float32)
    for a in range(0, n, BLOCK):
        block = windows[a:a + BLOCK]
        gates_in = _encoded(block, before, m)
        before = block[-1, -CONTEXT:]
        for t in range(len(block)):     # gates in torch's order: input, forget, cell, output
            g = gates_in[t] + h_t @ w_hh
            s = _sigmoid(g)
            c_t = s[u:2 * u] * c_t + s[:u] * np.tanh(g[2 * u:3 * u])
            h_t = s[3 * u:] * np.tanh(c_t)
            hidden[a + t] = h_t
        if progress is not None:
            progress.update(len(block))
    logit = np.maximum(hidden, 0.0) @ m["final_w"] + m["final_b"]
    return _sigmoid(logit).astype(np.float32)


def speech_probability(y: np.ndarray, *, sr: int, progress: bool = False) -> np.ndarray:
    """Speech probability for consecutive 32 ms windows.

    Parameters
    ----------
    y : np.ndarray, shape (N,), float32
        Mono audio in -1..1.
    sr : int
        Sample rate of ``y`` in Hz; resampled to 16 kHz for the model when different.
    progress : bool
        Show a tqdm bar on stderr.

    Returns
    -------
    np.ndarray, shape (ceil(N16 / 512),), float32
        Probability 0..1 that window ``i``, covering ``[i, i+1) * 0.032`` s, is speech.
    """
    from tqdm.auto import tqdm

    y16 = _to_vad_rate(y, sr=sr)
    n_win = -(-len(y16) // WINDOW)
    padded = np.zeros(n_win * WINDOW, np.float32)
    padded[:len(y16)] = y16
    with _lock:
        m = _get_model()
    with tqdm(total=n_win, disable=not progress, desc="voice activity", unit="win",
              mininterval=0.5) as bar:
        return _network(padded.reshape(n_win, WINDOW), m, progress=bar)


def frame_speech_probability(y: np.ndarray, *, sr: int, fps: float, num_frames: int,
                             progress: bool = False) -> np.ndarray:
    """Speech probability per video frame, shape (num_frames,) float32 in 0..1.

    The 32 ms window probabilities are interpolated linearly at each frame's centre
    ``(t + 0.5) / fps`` seconds, so frame ``t`` describes ``[t / fps, (t + 1) / fps)``.
    """
    probs = speech_probability(y, sr=sr, progress=progress)
    win_s = WINDOW / VAD_SR
    centres = (np.arange(len(probs)) + 0.5) * win_s
    t = (np.arange(num_frames) + 0.5) / fps
    return np.interp(t, centres, probs).astype(np.float32)


def speech_segments(y: np.ndarray, *, sr: int, threshold: float = 0.5,
                    min_speech_s: float = 0.25, min_silence_s: float = 0.1,
                    pad_s: float = 0.03) -> list[tuple[float, float]]:
    """Speech segments ``[(start_s, end_s), ...]`` in seconds, in time order.

    Hysteresis as in silero-vad: speech starts where the probability reaches ``threshold``
    and ends where it stays below ``threshold - 0.15`` for ``min_silence_s``; segments
    shorter than ``min_speech_s`` are dropped, and each is widened by ``pad_s``.
    """
    return segments_from_probability(speech_probability(y, sr=sr), hop_s=WINDOW / VAD_SR,
                                     duration_s=len(y) / sr, threshold=threshold,
                                     min_speech_s=min_speech_s, min_silence_s=min_silence_s,
                                     pad_s=pad_s)


def segments_from_probability(probs: np.ndarray, *, hop_s: float, duration_s: float,
                              threshold: float = 0.5, min_speech_s: float = 0.25,
                              min_silence_s: float = 0.1,
                              pad_s: float = 0.03) -> list[tuple[float, float]]:
    """Speech segments from probabilities sampled every ``hop_s`` seconds (see above)."""
    off = threshold - 0.15
    segs, start, last_speech = [], None, 0
    for i, p in enumerate(probs):
        if start is None and p >= threshold:
            start = i
        if start is not None:
            if p >= off:
                last_speech = i
            elif (i - last_speech) * hop_s >= min_silence_s:
                segs.append((start, last_speech + 1))
                start = None
    if start is not None:
        segs.append((start, last_speech + 1))
    out = []
    for a, b in segs:
        if (b - a) * hop_s >= min_speech_s:
            out.append((max(0.0, a * hop_s - pad_s), min(duration_s, b * hop_s + pad_s)))
    return out


def _to_vad_rate(y: np.ndarray, *, sr: int) -> np.ndarray:
    y = np.asarray(y, np.float32)
    if sr == VAD_SR:
        return y
    import soxr
    return soxr.resample(y, sr, VAD_SR).astype(np.float32, copy=False)
