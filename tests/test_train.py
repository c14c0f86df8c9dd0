"""Training: synthetic data, windows, loss masks, checkpoints, crash and resume, the generator."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gesticulate.data.clips import iter_clips, read_manifest
from gesticulate.data.synthetic import make_synthetic_dataset
from gesticulate.errors import InputError, OptionError, OutputError
from gesticulate.models.motion_dit import MotionDiT, MotionDiT_tiny
from gesticulate.models.schedulers import make_noise_scheduler
from gesticulate.motion.base import MotionGenerator
from gesticulate.motion.diffusion import DiffusionGenerator
from gesticulate.skeleton.normalize import to_local
from gesticulate.train import motion
from gesticulate.train.checkpoint import list_checkpoints
from gesticulate.train.data import WindowDataset, load_clips, load_stats, style_table, wrist_speed
from gesticulate.train.evaluate import onset_correlation
from gesticulate.train.motion import train
from gesticulate.train.objective import ObjectiveConfig, diffusion_loss, joint_weights, prepare_batch

SMALL = dict(window=24, prev_frames=4, patch_frames=4, width=64, depth=2, num_heads=4)
FAST = dict(preset="tiny", batch_size=4, progress=False, metric_clips=0, model=SMALL)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_synthetic_dataset(tmp_path_factory.mktemp("syn"), num_speakers=4,
                                  clips_per_speaker=2, seconds=3.0, seed=1)


def test_synthetic_dataset_has_the_format_and_the_known_relation(data):
    rows = read_manifest(data)
    assert {r.split for r in rows} == {"train", "val", "test"}
    by_split = {s: {r.speaker_id for r in rows if r.split == s} for s in ("train", "val", "test")}
    assert not (by_split["train"] & by_split["val"]) and not (by_split["train"] & by_split["test"])
    assert (data / "stats.npz").is_file()
    clip = next(iter_clips(data, split="train"))
    assert clip.skeleton.keypoints.shape == (75, 133, 3) and clip.audio_path.is_file()
    assert clip.features.stack().shape == (75, 84)
    loc, conf = to_local(clip.skeleton.keypoints)
    speed = wrist_speed(loc, (conf > 0.7).astype(np.float32), fps=25.0)
    assert onset_correlation(speed, clip.features.onset) > 0.3  # wrists beat on onsets
    assert (conf < 0.7).any()  # hand dropouts exist, for the confidence masks


def test_windows_pad_short_clips_and_carry_conditions(data):
    stats = load_stats(data)
    clips = load_clips(data, split="train", stats=stats, fps=25.0,
                       styles=style_table(data, num_styles=16))
    ds = WindowDataset(clips, window=100, stats=stats, fps=25.0)  # clips are 75 frames
    item = ds[0]
    assert item["motion"].shape == (100, 121, 2) and item["audio"].shape == (100, 84)
    assert item["visible"][75:].sum() == 0  # padding is unseen, so it is out of the loss
    assert item["style_id"] > 0 and np.isfinite(float(item["speed"]))
    batch = ds.sample(np.random.default_rng(0), 3)
    assert batch["reference"].shape == (3, 121, 2)
    with pytest.raises(InputError, match="fps"):
        load_clips(data, split="train", stats=stats, fps=30.0, styles={})


def _loss(batch, obj, model, seed=0):
    sched = make_noise_scheduler(model.config)
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(batch["motion"].shape, generator=g)
    t = torch.randint(0, 1000, (len(noise),), generator=g)
    w = joint_weights(obj.region_weights, 121)
    return float(diffusion_loss(model, batch, sched, obj, noise=noise, timesteps=t, weights=w))


def test_masks_and_region_weights_change_the_loss(data):
    stats = load_stats(data)
    clips = load_clips(data, split="train", stats=stats, fps=25.0, styles={})
    ds = WindowDataset(clips, window=24, stats=stats, fps=25.0)
    obj = ObjectiveConfig(cond_dropout=0, hand_known_prob=0, prev_known_prob=0)
    batch = prepare_batch(ds.sample(np.random.default_rng(0), 4), np.random.default_rng(0), obj,
                          prev_frames=4)
    batch["visible"][:, 8:16] = 0.0  # a stretch of unseen frames
    model = MotionDiT_tiny(**SMALL)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        base = _loss(batch, obj, model)
        unmasked = _loss(batch, ObjectiveConfig(**{**obj.__dict__, "use_confidence_mask": False}), model)
        flat = _loss(batch, ObjectiveConfig(**{**obj.__dict__, "region_weights": {"body": 1.0}}), model)
        hands = _loss(batch, ObjectiveConfig(**{**obj.__dict__, "region_weights": {"hands": 5.0}}), model)
    assert len({round(v, 6) for v in (base, unmasked, flat, hands)}) == 4
    with pytest.raises(OptionError, match="unknown region"):
        joint_weights({"feet": 2.0}, 121)


def test_known_points_are_out_of_the_loss(data):
    stats = load_stats(data)
    ds = WindowDataset(load_clips(data, split="train", stats=stats, fps=25.0, styles={}),
                       window=24, stats=stats, fps=25.0)
    all_known = ObjectiveConfig(prev_known_prob=1.0, hand_known_prob=1.0)
    batch = prepare_batch(ds.sample(np.random.default_rng(1), 2), np.random.default_rng(1),
                          all_known, prev_frames=4)
    km, vis = batch["known_mask"], batch["visible"]
    # At least half of the previous frames, and the hands, are known where they were seen.
    assert torch.equal(km[:, :2], vis[:, :2]) and torch.equal(km[:, 10, 100], vis[:, 10, 100])
    model = MotionDiT_tiny(**SMALL)  # adaLN-Zero: predicts 0, so the loss is the target's size
    a = _loss(batch, all_known, model)
    batch["motion"] += 10.0 * km[..., None]  # change only known values: the loss must not see them
    assert _loss(batch, all_known, model) == pytest.approx(a, rel=1e-6)
    batch["motion"][:, 10, 5] += 10.0  # an unknown point: it must
    assert _loss(batch, all_known, model) > a + 0.01


def _weights(ckpt):
    return load_file(ckpt / "model.safetensors"), load_file(ckpt / "train_state" / "model.safetensors")


def test_train_writes_checkpoints_logs_and_resumes_after_a_crash(data, tmp_path, monkeypatch):
    kw = dict(FAST, steps=6, checkpoint_every=3, val_every=3)
    ref = train(data, output=tmp_path / "a", **kw)
    assert ref.name == "step_00000006"
    assert {p.name for p in ref.iterdir()} >= {"config.json", "model.safetensors", "stats.npz",
                                                "meta.json", "train_state"}

    calls = []

    def crash_in_step_6(*args, **kw):  # the training loss of steps 1-5, then a crash
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt("simulated crash")
        return diffusion_loss(*args, **kw)
    monkeypatch.setattr(motion, "diffusion_loss", crash_in_step_6)
    with pytest.raises(KeyboardInterrupt):
        train(data, output=tmp_path / "b", **kw)
    monkeypatch.undo()
    assert list_checkpoints(tmp_path / "b")[-1].name == "step_00000003"
    with pytest.raises(OptionError, match="--resume"):
        train(data, output=tmp_path / "b", **kw)
    mine = tmp_path / "mine"          # a folder of the user's is no run folder
    mine.mkdir()
    (mine / "log.csv").write_text("the user's own log")
    with pytest.raises(OutputError, match="other things in it"):
        train(data, output=mine, **kw)
    assert [p.name for p in mine.iterdir()] == ["log.csv"]
    resumed = train(data, output=tmp_path / "b", resume=True, **kw)
    for a, b in zip(_weights(ref), _weights(resumed)):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    steps = [int(r["step"]) for r in csv.DictReader(open(tmp_path / "b" / "log.csv"))]
    assert steps == [0, 3, 6]  # nothing lost, nothing doubled
    # A finished run resumed with more steps goes on to the new count, with its saved options.
    longer = train(data, output=tmp_path / "b", resume=True, **dict(kw, steps=9, lr=0.5))
    assert longer.name == "step_00000009"
    state = json.loads((longer / "train_state" / "state.json").read_text())
    assert state["config"]["lr"] == 3e-4 and state["config"]["steps"] == 9
    rows = list(csv.DictReader(open(tmp_path / "a" / "log.csv")))[1:]
    assert all(float(r["val_loss"]) > 0 and float(r["steps_per_s"]) > 0 for r in rows)


def test_a_run_written_before_the_shared_loop_resumes_exactly(data, tmp_path):
    """Runs written before issue 12 (no LR scheduler) have the same checkpoint files, but their
    optimizer groups lack ``initial_lr`` and hold the last step's ``lr``; such a run resumes to
    the weights, EMA and optimizer state of an uninterrupted one."""
    kw = dict(FAST, steps=4, checkpoint_every=2, val_every=0)
    whole = train(data, output=tmp_path / "a", **kw)
    train(data, output=tmp_path / "b", **dict(kw, steps=2))
    ckpt = list_checkpoints(tmp_path / "b")[-1]
    assert sorted(str(p.relative_to(ckpt)) for p in ckpt.rglob("*")) == [
        "config.json", "meta.json", "model.safetensors", "stats.npz", "train_state",
        "train_state/model.safetensors", "train_state/optimizer.json",
        "train_state/optimizer.safetensors", "train_state/state.json"]
    groups = json.loads((ckpt / "train_state" / "optimizer.json").read_text())
    for g in groups:
        del g["initial_lr"]
        g["lr"] = 3e-4 * 2 / 100  # the warm-up lr of step 1, which the old loop set last
    (ckpt / "train_state" / "optimizer.json").write_text(json.dumps(groups))
    resumed = train(data, output=tmp_path / "b", resume=True, **kw)
    for name in ("model.safetensors", "train_state/model.safetensors", "train_state/optimizer.safetensors"):
        a, b = load_file(whole / name), load_file(resumed / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name


def test_train_rejects_bad_options(data, tmp_path):
    with pytest.raises(OptionError, match="preset"):
        train(data, output=tmp_path / "x", preset="XL", steps=1)
    with pytest.raises(OptionError, match="unknown training options"):
        train(data, output=tmp_path / "x", steps=1, learning_rate=1.0)
    with pytest.raises(OptionError, match="unknown MotionDiT config keys"):
        train(data, output=tmp_path / "x", steps=1, progress=False, model={"widht": 3})


def test_generator_from_a_trained_run(data, tmp_path):
    train(data, output=tmp_path / "run", steps=2, checkpoint_every=2, val_every=0, **FAST)
    gen = DiffusionGenerator(tmp_path / "run", num_steps=3, device="cpu")
    assert isinstance(gen, MotionGenerator)
    clip = next(iter_clips(data, split="test"))
    ref = clip.skeleton.keypoints[0]
    seq = gen.generate(clip.features, ref, image_size=(512, 512), seed=1, speed=1.2, style="spk0")
    assert seq.keypoints.shape == (75, 133, 3) and seq.fps == 25.0
    again = DiffusionGenerator(tmp_path / "run", num_steps=3, device="cpu")
    assert np.array_equal(seq.keypoints, again.generate(clip.features, ref, image_size=(512, 512),
                                                        seed=1, speed=1.2, style="spk0").keypoints)
    # A model that predicts the mean pose lands around the reference's neck, in pixels.
    neck = 0.5 * (seq.keypoints[:, 5, :2] + seq.keypoints[:, 6, :2])
    assert np.abs(neck - 0.5 * (ref[5, :2] + ref[6, :2])).max() < 100
    with pytest.raises(OptionError, match="unknown style"):
        gen.generate(clip.features, ref, image_size=(512, 512), style="nobody")
    with pytest.raises(OptionError, match="sampler"):
        DiffusionGenerator(tmp_path / "run", sampler="euler")


def test_generate_plans_the_hands_first_with_a_learned_model(data, tmp_path):
    """EMO2's hands-first sampling reaches ``generate`` (and so the CLI and the web app): the
    generator is built with it, and its motion differs from one-pass sampling's."""
    from skimage.data import astronaut

    from gesticulate.pipeline import GeneratePipeline
    train(data, output=tmp_path / "run", steps=2, checkpoint_every=2, val_every=0, **FAST)
    t = np.arange(2 * 16000) / 16000
    speech = ((np.sin(2 * np.pi * 4 * t) > 0) * np.sin(2 * np.pi * 180 * t) * 0.3).astype(np.float32)
    motions = {}
    for first in (False, True):
        pipe = GeneratePipeline(motion="diffusion", checkpoint=str(tmp_path / "run"), size=64,
                                phones=False, hands_first=first, render_workers=1)
        pipe(audio=(speech, 16000), image=astronaut(), output=tmp_path / f"{first}.mp4",
             motion_output=tmp_path / f"{first}.npz", progress=False)
        assert pipe.generator().hands_first is first
        motions[first] = np.load(tmp_path / f"{first}.npz")["keypoints"]
    assert motions[True].shape == motions[False].shape
    assert not np.array_equal(motions[True], motions[False])
    # The learned sample is smoothed before fitting (DCSG), unless asked not to.
    GeneratePipeline(motion="diffusion", checkpoint=str(tmp_path / "run"), size=64, phones=False,
                     smooth=False, render_workers=1)(
        audio=(speech, 16000), image=astronaut(), output=tmp_path / "raw.mp4",
        motion_output=tmp_path / "raw.npz", progress=False)
    raw = np.load(tmp_path / "raw.npz")["keypoints"]

    def jitter(kp):
        return np.abs(np.diff(kp[:, [9, 10], :2], 2, axis=0)).mean()
    assert jitter(motions[False]) < 0.8 * jitter(raw)
    with pytest.raises(OptionError, match="--hands-first .* needs --motion diffusion"):
        GeneratePipeline(hands_first=True)


def test_a_model_hears_the_phones_recognised_in_its_clips(data, tmp_path):
    """Phones are on by default: the clips' phones are recognised once and kept in the
    dataset, the model's audio rows end with their viseme channels, and a generator fed
    other phones moves otherwise. Off, the model hears the features alone (as checkpoints
    written before the phones)."""
    from gesticulate.audio.phones import NUM_PHONE_CHANNELS
    from gesticulate.data.clips import PHONES_NAME, clip_dir
    run = train(data, output=tmp_path / "run", steps=2, checkpoint_every=2, val_every=0, **FAST)
    cfg = MotionDiT.from_pretrained(run).config
    assert cfg.phones and cfg.audio_dim == 84 + NUM_PHONE_CHANNELS
    clip = next(iter_clips(data, split="test"))
    assert (clip_dir(data, next(iter_clips(data, split="train")).record.clip_id) / PHONES_NAME).is_file()
    gen = DiffusionGenerator(tmp_path / "run", num_steps=2, device="cpu")
    ref = clip.skeleton.keypoints[0]
    said = [("M", 0.0, 0.4), ("AA", 0.4, 1.2), ("P", 1.2, 1.5), ("IY", 1.5, 3.0)]
    heard = {}
    for name, phones in (("none", None), ("said", said), ("other", [("OW", 0.0, 3.0)])):
        heard[name] = gen.generate(clip.features, ref, image_size=(512, 512), seed=1,
                                   phones=phones).keypoints
    assert not np.array_equal(heard["said"], heard["other"])
    assert not np.array_equal(heard["said"], heard["none"])
    train(data, output=tmp_path / "off", steps=2, checkpoint_every=2, val_every=0, phones=False,
          **FAST)
    off = MotionDiT.from_pretrained(tmp_path / "off").config
    assert not off.phones and off.audio_dim == 84
    # A checkpoint written before the phones (no "phones" in its config) loads and samples.
    from gesticulate.train.checkpoint import list_checkpoints as ckpts
    folder = ckpts(tmp_path / "off")[-1]
    config = json.loads((folder / "config.json").read_text())
    del config["phones"]
    (folder / "config.json").write_text(json.dumps(config))
    old = DiffusionGenerator(tmp_path / "off", num_steps=2, device="cpu")
    assert not old.model.config.phones
    seq = old.generate(clip.features, ref, image_size=(512, 512), seed=1, phones=said)
    assert seq.keypoints.shape == (75, 133, 3)


def test_the_parts_representation_holds_fingers_and_lips_apart_from_the_arm_and_head(tmp_path):
    """Hands relative to their wrists, the face to the nose: a whole arm and head moving rigidly
    leave the finger and lip rows' z-scores unchanged, the round trip is exact, the flag is
    saved, and statistics written before it load as the plain representation."""
    from gesticulate.skeleton import layout as L
    from gesticulate.skeleton.normalize import LOCAL_ROW, NormStats, from_parts, to_parts
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 121, 2)).astype(np.float32)
    assert np.allclose(from_parts(to_parts(x)), x, atol=1e-5)
    stats = NormStats.fit([x], [np.ones((50, 121))], parts=True)
    moved = x.copy()
    hand = LOCAL_ROW[L.LEFT_HAND_START:L.LEFT_HAND_START + 21]
    face = LOCAL_ROW[L.FACE_START:L.FACE_START + 68]
    moved[:, hand] += (0.7, -0.3)                        # the arm carries the hand
    moved[:, face] += (0.1, 0.2)                         # the head carries the face
    za, zb = stats.normalize(x), stats.normalize(moved)
    fingers, lips = hand[1:], face[face != LOCAL_ROW[L.face(30)]]
    assert np.allclose(za[:, fingers], zb[:, fingers], atol=1e-4)
    assert np.allclose(za[:, lips], zb[:, lips], atol=1e-4)
    assert not np.allclose(za[:, hand[0]], zb[:, hand[0]])          # the wrist moved
    assert np.allclose(stats.denormalize(zb), moved, atol=1e-4)
    stats.save(tmp_path / "s.npz")
    assert NormStats.load(tmp_path / "s.npz").parts
    np.savez(tmp_path / "old.npz", mean=stats.mean, std=stats.std)       # before the flag
    assert not NormStats.load(tmp_path / "old.npz").parts


def test_a_model_trained_in_the_parts_representation_samples_in_the_photos_frame(data, tmp_path):
    train(data, output=tmp_path / "run", steps=2, checkpoint_every=2, val_every=0,
          local_parts=True, **FAST)
    gen = DiffusionGenerator(tmp_path / "run", num_steps=2, device="cpu")
    assert gen.stats.parts
    clip = next(iter_clips(data, split="test"))
    ref = clip.skeleton.keypoints[0]
    seq = gen.generate(clip.features, ref, image_size=(512, 512), seed=1)
    neck = 0.5 * (seq.keypoints[:, 5, :2] + seq.keypoints[:, 6, :2])
    assert np.abs(neck - 0.5 * (ref[5, :2] + ref[6, :2])).max() < 100
    # the hands come back around their wrists, not around the neck
    from gesticulate.skeleton import layout as L
    hand = seq.keypoints[:, L.LEFT_HAND_START:L.LEFT_HAND_START + 21, :2]
    sw = float(np.linalg.norm(ref[5, :2] - ref[6, :2]))
    assert np.linalg.norm(hand - hand[:, :1], axis=-1).max() < 1.5 * sw


def test_the_mask_head_learns_region_activity_and_generation_carries_it(data, tmp_path):
    """MMGT's motion masks: a MotionDiT with the mask head trains on the activity of face,
    lips and hands in the data and predicts it from the audio; the generated sequence holds
    it (one row per frame, saved with the motion)."""
    from gesticulate.skeleton.sequence import SkeletonSequence
    from gesticulate.train.data import WindowDataset, load_clips, load_stats
    # the windows carry the targets: the activity measured on their motion, and where seen
    stats = load_stats(data)
    ds = WindowDataset(load_clips(data, split="train", stats=stats, fps=25.0, styles={}),
                       window=20, stats=stats, fps=25.0)
    item = ds[0]
    assert item["activity"].shape == item["activity_seen"].shape == (20, 3)
    assert float(item["activity"].max()) > 0
    train(data, output=tmp_path / "run", steps=2, checkpoint_every=2, val_every=0,
          **{**FAST, "model": {**SMALL, "mask_head": True}})
    gen = DiffusionGenerator(tmp_path / "run", num_steps=2, device="cpu")
    assert gen.model.config.mask_head
    clip = next(iter_clips(data, split="test"))
    seq = gen.generate(clip.features, clip.skeleton.keypoints[0], image_size=(512, 512), seed=1)
    a = seq.region_activity
    assert a.shape == (75, 3) and (a >= 0).all() and (a <= 1).all()
    seq.save(tmp_path / "m.npz")
    assert np.array_equal(SkeletonSequence.load(tmp_path / "m.npz").region_activity, a)
    # A model without the head predicts none.
    train(data, output=tmp_path / "plain", steps=2, checkpoint_every=2, val_every=0, **FAST)
    plain = DiffusionGenerator(tmp_path / "plain", num_steps=2, device="cpu")
    ref = clip.skeleton.keypoints[0]
    assert plain.generate(clip.features, ref, image_size=(512, 512)).region_activity is None


def _tiny_wav2vec2(folder):
    """A randomly initialised wav2vec2 with 16 features, saved as a user's encoder folder."""
    tf = pytest.importorskip("transformers")
    cfg = tf.Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=32, conv_dim=(16, 16), conv_stride=(5, 64),
                            conv_kernel=(10, 128), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2)
    torch.manual_seed(0)
    tf.Wav2Vec2Model(cfg).save_pretrained(folder)
    return folder


def test_a_model_hears_a_speech_encoder_from_a_local_folder(data, tmp_path):
    """train --audio-encoder: the encoder's features of each clip are computed once and kept
    in the dataset, the model hears them after the features and phones, the run names the
    encoder, and generation (here through the whole pipeline) feeds it the waveform; a run
    whose encoder folder is gone, or a waveform left out, is a clear error."""
    import shutil

    from skimage.data import astronaut

    from gesticulate.audio.phones import NUM_PHONE_CHANNELS
    from gesticulate.data.clips import clip_dir
    from gesticulate.pipeline import GeneratePipeline
    enc = _tiny_wav2vec2(tmp_path / "w2v")
    run = train(data, output=tmp_path / "run", steps=2, checkpoint_every=2, val_every=0,
                audio_encoder=str(enc), **FAST)
    cfg = MotionDiT.from_pretrained(run).config
    assert cfg.encoder_dim == 16 and cfg.audio_dim == 84 + NUM_PHONE_CHANNELS + 16
    first = next(iter_clips(data, split="train"))
    cached = list(clip_dir(data, first.record.clip_id).glob("encoder-*.npy"))
    assert len(cached) == 1 and np.load(cached[0]).shape == (75, 16)
    t = np.arange(2 * 16000) / 16000
    speech = ((np.sin(2 * np.pi * 4 * t) > 0) * np.sin(2 * np.pi * 180 * t) * 0.3).astype(np.float32)
    pipe = GeneratePipeline(motion="diffusion", checkpoint=str(tmp_path / "run"), size=64,
                            render_workers=1)
    pipe(audio=(speech, 16000), image=astronaut(), output=tmp_path / "a.mp4",
         motion_output=tmp_path / "a.npz", progress=False)
    assert np.load(tmp_path / "a.npz")["keypoints"].shape[0] == 50
    gen = DiffusionGenerator(tmp_path / "run", num_steps=2, device="cpu")
    clip = next(iter_clips(data, split="test"))
    with pytest.raises(InputError, match="pass the waveform"):
        gen.generate(clip.features, clip.skeleton.keypoints[0], image_size=(512, 512))
    moved = shutil.move(str(enc), str(tmp_path / "elsewhere"))
    with pytest.raises(InputError, match="--audio-encoder"):
        DiffusionGenerator(tmp_path / "run", num_steps=2, device="cpu")
    again = DiffusionGenerator(tmp_path / "run", num_steps=2, device="cpu", audio_encoder=moved)
    assert again.hears_waveform
    with pytest.raises(InputError, match="no config.json"):
        DiffusionGenerator(tmp_path / "run", num_steps=2, device="cpu", audio_encoder=tmp_path)


def test_a_run_started_before_the_phones_resumes_without_them(data, tmp_path):
    """Its saved options have no "phones": it goes on as it started (a model hearing the
    features alone), not with today's default."""
    run = tmp_path / "run"
    train(data, output=run, steps=2, checkpoint_every=2, val_every=0, phones=False, **FAST)
    saved = json.loads((run / "train_config.json").read_text())
    del saved["phones"]
    (run / "train_config.json").write_text(json.dumps(saved))
    train(data, output=run, steps=4, checkpoint_every=2, val_every=0, resume=True, **FAST)
    assert not MotionDiT.from_pretrained(run).config.phones


def test_phone_dropout_zeroes_the_phone_channels_of_some_windows():
    from gesticulate.audio.phones import NUM_PHONE_CHANNELS
    b, w, j, a = 64, 8, 121, 84 + NUM_PHONE_CHANNELS
    batch = {"visible": torch.ones(b, w, j), "audio": torch.ones(b, w, a),
             "style_id": torch.ones(b, dtype=torch.long), "style_vec": torch.zeros(b, 20),
             "speed": torch.ones(b)}
    out = prepare_batch(batch, np.random.default_rng(0), ObjectiveConfig(phone_dropout=0.5),
                        prev_frames=4, phone_columns=slice(84, 84 + NUM_PHONE_CHANNELS))
    dropped = out["audio"][:, :, -NUM_PHONE_CHANNELS:].sum((1, 2)) == 0
    assert 10 < int(dropped.sum()) < 54
    assert (out["audio"][:, :, :84] == 1).all() and (batch["audio"] == 1).all()
    same = prepare_batch(batch, np.random.default_rng(0), ObjectiveConfig(), prev_frames=4)
    assert same["audio"] is batch["audio"]


def test_mirror_is_an_involution_that_swaps_sides():
    from gesticulate.skeleton import layout as L
    m = L.MIRROR
    assert np.array_equal(m[m], np.arange(133))
    assert m[L.LEFT_WRIST] == L.RIGHT_WRIST and m[L.NOSE] == L.NOSE
    assert m[L.LEFT_HAND_START + 8] == L.RIGHT_HAND_START + 8
    assert m[L.MOUTH_LEFT_CORNER] == L.MOUTH_RIGHT_CORNER
    # A frontal face (the astronaut's, detected) maps onto itself mirrored across its midline.
    import cv2
    import skimage.data

    from gesticulate.render.warp.testing import reference_keypoints
    ref = reference_keypoints(cv2.resize(skimage.data.astronaut(), (256, 256)))
    face = np.arange(L.FACE_START, L.FACE_START + 68)
    mid = ref[[L.face(i) for i in (27, 28, 29, 30)], 0].mean()
    mirrored = ref[m[face], :2].copy()
    mirrored[:, 0] = 2 * mid - mirrored[:, 0]
    assert np.abs(mirrored - ref[face, :2]).max() < 4.0


def test_augmentation_scales_rotates_and_flips_a_window(data):
    """A flipped window is the mirror image (left wrist where the right one was, x negated);
    rotation and scale keep the skeleton's shape (all distances times the scale); unseen
    points stay zero; a flip twice is the identity."""
    from gesticulate.skeleton import layout as L
    from gesticulate.train.augment import augment_window, local_mirror, transform
    stats = load_stats(data)
    ds = WindowDataset(load_clips(data, split="train", stats=stats, fps=25.0,
                                  styles=style_table(data, num_styles=8)), window=24,
                       stats=stats, fps=25.0)
    item = ds.window_at(0, 0, ref_frame=0)
    local = stats.denormalize(item["motion"].numpy())
    lw = int(np.flatnonzero(L.UPPER_BODY_INDICES == L.LEFT_WRIST)[0])
    rw = int(np.flatnonzero(L.UPPER_BODY_INDICES == L.RIGHT_WRIST)[0])
    flipped = transform(local, scale=1.0, angle=0.0, flip=True)
    np.testing.assert_allclose(flipped[:, lw], local[:, rw] * [-1, 1], atol=1e-5)
    np.testing.assert_allclose(transform(flipped, scale=1.0, angle=0.0, flip=True), local, atol=1e-5)
    turned = transform(local, scale=1.1, angle=0.2, flip=False)
    d = lambda a: np.linalg.norm(a[:, lw] - a[:, rw], axis=-1)   # noqa: E731
    np.testing.assert_allclose(d(turned), 1.1 * d(local), rtol=1e-4)
    assert np.array_equal(local_mirror()[local_mirror()], np.arange(len(L.UPPER_BODY_INDICES)))
    rng = np.random.default_rng(0)
    seen_any = False
    for _ in range(8):
        out = augment_window(item, rng, stats)
        assert out["motion"].shape == item["motion"].shape
        assert (out["motion"].numpy()[out["visible"].numpy() == 0] == 0).all()
        assert out["visible"].sum() == item["visible"].sum()
        seen_any |= not torch.equal(out["motion"], item["motion"])
        assert 0.89 <= float(out["speed"] / item["speed"]) <= 1.11
    assert seen_any
    assert torch.equal(item["motion"], ds.window_at(0, 0, ref_frame=0)["motion"])   # untouched


def test_training_with_augmentation_runs_and_is_saved(data, tmp_path):
    train(data, output=tmp_path / "run", steps=2, checkpoint_every=2, val_every=0, augment=True,
          **FAST)
    cfg = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert cfg["augment"] is True
