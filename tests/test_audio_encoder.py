"""The optional pretrained speech encoder (audio/encoder.py), on tiny random models."""

from __future__ import annotations

import numpy as np
import pytest

from gesticulate.audio.encoder import SpeechEncoder, encoder_key
from gesticulate.errors import InputError

tf = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def w2v(tmp_path_factory):
    cfg = tf.Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=32, conv_dim=(16, 16), conv_stride=(5, 64),
                            conv_kernel=(10, 128), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2)
    folder = tmp_path_factory.mktemp("w2v")
    tf.Wav2Vec2Model(cfg).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    cfg = tf.WhisperConfig(d_model=16, encoder_layers=1, decoder_layers=1,
                           encoder_attention_heads=2, decoder_attention_heads=2,
                           encoder_ffn_dim=32, decoder_ffn_dim=32, num_mel_bins=80,
                           vocab_size=100, max_target_positions=16, pad_token_id=0,
                           bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
    folder = tmp_path_factory.mktemp("whisper")
    tf.WhisperModel(cfg).save_pretrained(folder)
    tf.WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    return folder


def test_whisper_encoder_hears_audio_longer_than_its_window(whisper):
    """Whisper hears 30 s at a time: 35 s of audio come back as one row per frame."""
    enc = SpeechEncoder(whisper)
    assert enc.kind == "whisper" and enc.dim == 16
    y = np.random.default_rng(0).normal(size=35 * 16000).astype(np.float32) * 0.1
    rows = enc(y, 16000, fps=25.0, num_frames=875)
    assert rows.shape == (875, 16) and np.isfinite(rows).all()
    assert rows[800:].std(0).min() > 0          # the last 5 s are the audio's, not padding


@pytest.mark.parametrize("fps, sr", [(25.0, 16000), (30.0, 16000), (25.0, 44100)])
def test_one_row_per_video_frame_at_any_rate(w2v, fps, sr):
    enc = SpeechEncoder(w2v)
    y = np.random.default_rng(0).normal(size=int(2.5 * sr)).astype(np.float32) * 0.1
    rows = enc(y, sr, fps=fps, num_frames=int(2.5 * fps))
    assert rows.shape == (int(2.5 * fps), 16) and rows.dtype == np.float32
    assert np.isfinite(rows).all() and rows.std(0).min() > 0       # it heard the audio


def test_the_key_names_the_contents_not_the_place(w2v, tmp_path):
    import shutil
    copy = shutil.copytree(w2v, tmp_path / "copy")
    assert encoder_key(copy) == encoder_key(w2v)


def test_folders_that_are_not_speech_encoders_are_refused(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        SpeechEncoder(tmp_path)
    tf.BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                  intermediate_size=16).save_pretrained(tmp_path)
    with pytest.raises(InputError, match="'bert' model"):
        SpeechEncoder(tmp_path)
