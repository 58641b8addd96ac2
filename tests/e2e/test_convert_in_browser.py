"""A newcomer signs up, uploads a WAV, converts it with options, and downloads the FLAC."""

import contextlib
import os
import signal
from urllib.parse import urlsplit

import mutagen.flac
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from converter.models import Job
from tests import media
from tests.web.conftest import make_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("live"), pytest.mark.e2e]

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    return media.tone(tmp_path_factory.mktemp("e2e") / "interview.wav", seconds=3.0)


def sign_up(page, username: str) -> None:
    page.goto("/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button:has-text('Sign up')")
    page.wait_for_url("**/")


def test_sign_up_convert_and_download(page, worker, wav, tmp_path):
    sign_up(page, "newcomer")
    page.set_input_files("#files", str(wav))
    page.select_option("#opt-frequency", "48000")
    page.select_option("#opt-audio_bitdepth", "24")
    page.select_option("#opt-channels", "mono")
    page.fill("#opt-output_filename", "interview-master")
    page.click("button.convert-submit")

    # The job card polls until the job ends; then the result and its player appear.
    download_link = page.locator("a.button:has-text('Download')")
    download_link.wait_for()
    assert page.locator("audio").count() == 1
    # Its waveform is measured when the card comes into view, and drawn in it.
    page.locator("figure.waveform svg[role=img]").wait_for()
    title = page.locator("figure.waveform title").text_content()
    assert title.startswith("Waveform of interview-master.flac: highest peak ")
    # A click on it plays from there (half of the 3 s), and a line marks the place.
    box = page.locator("figure.waveform").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    audio = page.locator("li.output audio")
    for _ in range(100):  # the page's CSP forbids wait_for_function's eval
        if audio.evaluate("player => player.currentTime") >= 1.4:
            break
        page.wait_for_timeout(100)
    assert audio.evaluate("player => player.currentTime") >= 1.4
    page.locator(".waveform-playhead[visibility=visible]").wait_for(state="attached")
    progress = page.locator("progress[id^='job-']")
    assert progress.count() == 0 or progress.first.get_attribute("value") == "100"

    with page.expect_download() as caught:
        download_link.click()
    download = caught.value
    assert download.suggested_filename == "interview-master.flac"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    info = mutagen.flac.FLAC(saved).info
    assert (info.sample_rate, info.bits_per_sample, info.channels) == (48000, 24, 1)
    assert abs(info.length - 3.0) < 0.05
    assert Job.objects.get().status == Job.Status.COMPLETED


def test_a_short_job_shows_its_result_at_the_early_poll(page, worker, wav):
    """With the page's clock paused, a second never passes: only the card's ask 0.3 s after it
    appeared can bring the completed job in."""
    sign_up(page, "in-a-hurry")
    page.clock.install()
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    page.set_input_files("#files", str(wav))
    page.click("button.convert-submit")
    page.locator("article.job.job-queued").wait_for()
    assert worker.wait_for(Job.objects.get()).status == Job.Status.COMPLETED
    with page.expect_response(lambda response: "/status/" in response.url):
        page.clock.run_for(400)
    # The card's content is swapped in when the page has read the answer (in real time, maybe
    # after the run above); its new attributes (class job-completed) only on htmx's settle timer.
    page.locator("article.job a.button:has-text('Download')").wait_for()
    page.clock.run_for(100)
    page.locator("article.job.job-completed a.button:has-text('Download')").wait_for()


def test_password_protected_result(page, worker, wav, tmp_path):
    sign_up(page, "archivist")
    page.set_input_files("#files", str(wav))
    page.fill("#opt-download_password", "first secret,second secret")
    page.click("button.convert-submit")

    # No player and no link until the password is given.
    unlock = page.locator("form[data-unlock]")
    unlock.wait_for()
    assert page.locator("audio").count() == 0
    assert page.locator("a.button:has-text('Download')").count() == 0
    assert page.locator(".waveform").count() == 0

    # A wrong password is refused on the card itself, the field ready for another try.
    page.fill("form[data-unlock] input[name=password]", "guess")
    page.click("form[data-unlock] button[type=submit]")
    page.locator("article.job").get_by_role("alert").filter(has_text="Wrong password.").wait_for()
    assert page.url.endswith("/") and "/outputs/" not in page.url
    assert page.evaluate("document.activeElement.name") == "password"

    # Any one of the listed passwords unlocks it, from the job's card.
    page.fill("form[data-unlock] input[name=password]", "second secret")
    with page.expect_download() as caught:
        page.click("form[data-unlock] button[type=submit]")
    saved = tmp_path / "protected.flac"
    caught.value.save_as(saved)
    assert caught.value.suggested_filename == "interview.flac"
    assert mutagen.flac.FLAC(saved).info.sample_rate == 44100
    assert Job.objects.get().outputs.get().downloads_counter == 1
    # The card then shows the player and a plain download link.
    page.locator("article.job audio").wait_for()
    assert page.locator("form[data-unlock]").count() == 0


def test_on_a_phone_every_page_of_the_menu_fits_its_width(page):
    """390 px wide (a small phone): the menu wraps instead of pushing entries off the screen."""
    sign_up(page, "on-the-road")
    user = get_user_model().objects.get(username="on-the-road")
    for status in (Job.Status.COMPLETED, Job.Status.FAILED):  # the history and usage have rows
        make_job(user.teams.get(), user, status=status, progress=100, finished_at=timezone.now())
    page.set_viewport_size({"width": 390, "height": 844})
    entries = page.locator("nav.site-nav a")
    names = entries.all_inner_texts()
    assert {"Convert", "History", "Settings", "API keys"} <= set(names)
    for index in range(len(names)):
        page.locator("nav.site-nav a").nth(index).click()
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
        box = page.locator("nav.site-nav a").nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, names[index]
    # The history shows each job as a card whose actions are in sight, not a table to scroll.
    page.goto("/history/")
    rows = page.locator("tr.job-row")
    assert rows.count() == 2
    assert page.locator(".table-wrap").evaluate("wrap => wrap.scrollWidth <= wrap.clientWidth")
    for index in range(rows.count()):
        for control in rows.nth(index).locator("button, a").all():
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, control.inner_text()


def test_a_change_made_while_the_options_are_checked_is_checked_too(page):
    """Start, then End, typed while the check of Start is still on its way, whose answer comes
    last: End is checked with Start, and the answer about Start alone does not undo it."""
    sign_up(page, "quick-typist")
    held = []
    page.route("**/options/validate/", lambda route: held.append(route))  # answered when released
    page.fill("#opt-start", "00:00:05")
    page.fill("#opt-end", "00:00:02")  # leaving Start sends its check
    page.locator("#opt-end").press("Tab")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)  # End's change has had its chance to be sent
    for route in reversed(held):  # the newest check answered first
        with contextlib.suppress(Exception):  # a check the page has given up on
            route.continue_()
        page.wait_for_timeout(300)
    error = page.locator("#opt-end-error")
    error.wait_for(timeout=10_000)
    assert error.text_content() == "Must be after the start time."
    assert page.locator("#opt-end").input_value() == "00:00:02"



def test_the_preset_select_says_custom_once_its_values_are_changed(page):
    from converter.options import BUILTIN_PRESETS

    sign_up(page, "preset-picker")
    for name in BUILTIN_PRESETS:
        with page.expect_response(lambda response: "/presets/apply/" in response.url):
            page.select_option("#opt-preset", name)
        page.wait_for_timeout(300)  # swapped in (the select shows the name before its values come)
        # A change to a field the preset did not set, then back: still the preset's values.
        page.fill("#opt-output_filename", "episode")
        page.locator("#opt-output_filename").press("Tab")
        page.wait_for_timeout(500)
        assert page.locator("#opt-preset").input_value() == name
        # A value of the preset changed: the values are no longer the preset's.
        page.select_option("#opt-audio_bitdepth", "32")
        page.locator("#opt-preset option:checked", has_text="Custom").wait_for(state="attached")
        page.fill("#opt-output_filename", "")
        page.locator("#opt-output_filename").press("Tab")
        page.wait_for_timeout(300)


def test_targets_hidden_by_a_dependency_come_back_as_they_were(page):
    """Custom loudness targets survive unticking and re-ticking Normalize, and a trip through
    another normalisation type; a preset's values still win over what was put away."""
    sign_up(page, "loudness-tweaker")

    def answered(action) -> None:
        with page.expect_response(lambda response: "/options/validate/" in response.url):
            action()
        page.wait_for_timeout(300)  # swapped in, and a restored value's own check sent and answered

    answered(lambda: page.check("#opt-normalize"))
    page.fill("#opt-normalize_target_level_ebu", "-16")
    answered(lambda: page.locator("#opt-normalize_target_level_ebu").press("Tab"))
    answered(lambda: page.uncheck("#opt-normalize"))
    assert page.locator("#opt-normalize_target_level_ebu").count() == 0
    answered(lambda: page.check("#opt-normalize"))
    page.locator("#opt-normalize_target_level_ebu").wait_for()
    assert page.locator("#opt-normalize_target_level_ebu").input_value() == "-16"
    answered(lambda: page.select_option("#opt-normalize_type", "peak"))
    answered(lambda: page.select_option("#opt-normalize_type", "ebu"))
    assert page.locator("#opt-normalize_target_level_ebu").input_value() == "-16"
    assert page.locator("#option-panel .error").count() == 0

    # A value put away with its error comes back with it.
    page.fill("#opt-normalize_target_level_ebu", "50")
    answered(lambda: page.locator("#opt-normalize_target_level_ebu").press("Tab"))
    assert page.locator("#opt-normalize_target_level_ebu-error").text_content() == "Must be at most -5."
    answered(lambda: page.uncheck("#opt-normalize"))
    answered(lambda: page.check("#opt-normalize"))
    page.locator("#opt-normalize_target_level_ebu-error").wait_for(timeout=5_000)
    assert page.locator("#opt-normalize_target_level_ebu").input_value() == "50"

    answered(lambda: page.uncheck("#opt-normalize"))
    with page.expect_response(lambda response: "/presets/apply/" in response.url):
        page.select_option("#opt-preset", "Broadcast EBU R128")
    page.wait_for_timeout(300)
    assert page.locator("#opt-normalize_target_level_ebu").input_value() == "-23"  # the preset's own


def test_a_refused_submit_brings_its_message_into_view(page):
    from playwright.sync_api import expect

    sign_up(page, "hasty-clicker")
    page.set_viewport_size({"width": 1280, "height": 600})
    page.locator(".convert-submit").scroll_into_view_if_needed()
    page.fill("textarea[name=urls]", "not a url")
    page.click(".convert-submit")
    message = page.locator("#input-error")
    expect(message).to_contain_text("“not a url”: Only http:// and https:// URLs are accepted.")
    expect(message).to_be_in_viewport()


def test_revoking_a_key_asks_first(page):
    from converter.models import ApiKey

    sign_up(page, "key-keeper")
    page.goto("/settings/api-keys/")
    page.fill("#key-name", "Nightly import")
    page.click("button:has-text('Create key')")
    revoke = page.locator("form[data-confirm] button")
    questions = []

    def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    revoke.click()
    page.wait_for_timeout(500)
    assert questions[0].startswith("Revoke the key “Nightly import”?")
    assert ApiKey.objects.get(name="Nightly import").revoked_at is None  # dismissed: kept
    page.once("dialog", lambda dialog: answer(dialog, True))
    with page.expect_navigation():
        revoke.click()
    assert ApiKey.objects.get(name="Nightly import").revoked_at is not None


def test_typing_a_search_leaves_one_step_in_the_browsers_history(page):
    sign_up(page, "searcher")
    user = get_user_model().objects.get(username="searcher")
    make_job(user.teams.get(), user, status=Job.Status.COMPLETED, progress=100, finished_at=timezone.now())
    page.goto("/history/")
    search = page.locator("#id_q")
    for text in ("so", "song"):  # two pauses: each one searches
        with page.expect_response(lambda response: "/history/?" in response.url):
            search.fill(text)
        page.wait_for_timeout(200)
    assert "q=song" in page.url
    page.go_back()
    page.wait_for_timeout(300)
    assert "q=" not in page.url, page.url  # back to the page before the search, not to "so"


def test_a_poll_lost_on_the_way_does_not_stop_the_card(page, worker, wav):
    """The card's first ask never gets an answer (as a request lost by the network): htmx would
    drop every later poll while it is in flight; it ends after 10 s and the next poll goes out.
    The worker is stopped until that first ask: a job done before its page showed (a 3-second
    WAV on a busy machine) gets a finished card that never asks (failed once in the suite)."""
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)  # never answered
            os.kill(worker.process.pid, signal.SIGCONT)

    page.route("**/status/**", hold_the_first)
    sign_up(page, "on-a-train")
    os.kill(worker.process.pid, signal.SIGSTOP)
    try:
        page.set_input_files("#files", str(wav))
        page.click("button.convert-submit")
        page.locator("article.job a.button:has-text('Download')").wait_for(timeout=30_000)
    finally:
        os.kill(worker.process.pid, signal.SIGCONT)
    assert len(held) == 1


def test_a_validation_during_the_submit_does_not_abort_it(page, worker, wav):
    """The form's requests replace each other; a field's change while the upload is in flight
    (a late blur, the re-check after a swap) aborted the submit once the server had made the
    job, so the card never came (2026-12-06, twice in the suite). Now it is dropped."""
    held, validations = [], []
    sign_up(page, "quick-clicker")
    page.route(lambda url: urlsplit(url).path == "/",
               lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    page.on("request", lambda request: "/options/validate/" in request.url and validations.append(request))
    page.set_input_files("#files", str(wav))
    page.click("button.convert-submit")
    while not held:
        page.wait_for_timeout(50)
    asked = len(validations)
    page.locator("#opt-channels").dispatch_event("change")  # as app.js's re-check does
    page.wait_for_timeout(300)
    assert len(validations) == asked
    held[0].continue_()
    page.locator("article.job a.button:has-text('Download')").wait_for(timeout=30_000)
    assert Job.objects.count() == 1


def test_an_unchanged_running_job_keeps_its_card_until_it_changes(page):
    """The card asks every second with its version and token; while the job is unchanged it gets
    a 204 (answered before the session is loaded, web/polls.py) and the card stays the same
    element; a change brings the new card, whose next asks carry the new version."""
    from converter.services.jobs import job_set

    sign_up(page, "watcher")
    user = get_user_model().objects.get(username="watcher")
    job = make_job(user.teams.get(), user, progress=40.0)
    answers = []
    page.on("response", lambda response: "/status/" in response.url
            and answers.append((response.status, urlsplit(response.url).query)))
    page.goto(f"/jobs/{job.pk}/")
    card = page.locator("article.job")
    card.evaluate("element => { element.dataset.seen = 'before the polls' }")
    while len(answers) < 2:
        page.wait_for_timeout(100)
    assert [status for status, _ in answers] == [204, 204]
    assert all("t=" in query for _, query in answers)
    assert card.get_attribute("data-seen") == "before the polls"  # not swapped
    job_set(job, progress=75.0)
    page.locator("article.job progress[value='75']").wait_for()
    asked_before = len(answers)
    while len(answers) < asked_before + 1:
        page.wait_for_timeout(100)
    assert answers[-1][0] == 204 and answers[-1][1] != answers[0][1]
