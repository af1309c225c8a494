//! PII findings of a recording (detection over its transcript and its audio's DTMF, as
//! a derivative is made or on its own for a reviewer), and the checks on spans a
//! reviewer adds.

use chrono::{DateTime, Utc};
use governance::authz::AccessAction;
use governance::{Actor, AuditEvent, Outcome};
use policy::Policy;
use redact::{Finding, Transcript};
use vault::RecordingEntry;

use crate::{Service, ServiceError};

/// Spans a reviewer adds, in milliseconds of the source: each must end after it starts,
/// lie within the recording (`duration_ms`) and touch the derivative's range `(from, to)`.
pub fn check_review_spans(add: &[(u64, u64)], duration_ms: u64, (from, to): (u64, u64)) -> Result<(), ServiceError> {
    for (i, (start, end)) in add.iter().enumerate() {
        if end <= start {
            return Err(ServiceError::bad_input(
                "span-invalid",
                format!("span {i}: it must end after it starts"),
            ));
        }
        if *end > duration_ms {
            return Err(ServiceError::bad_input(
                "span-outside-recording",
                format!("span {i}: the recording is {duration_ms} ms long"),
            ));
        }
        if *end <= from || *start >= to {
            return Err(ServiceError::bad_input(
                "span-outside-clip",
                format!("span {i}: the derivative covers {from}-{to} ms of the recording"),
            ));
        }
    }
    Ok(())
}

impl Service {
    /// Every finding over `transcript` (names and numbers known to the catalog, the
    /// policy language's number words, `words`) and over the decoded audio (DTMF).
    pub(super) fn findings(
        &self,
        policy: &Policy,
        entry: &RecordingEntry,
        transcript: &Transcript,
        streams: &[(String, u32, Vec<i16>)],
        words: &[String],
    ) -> Vec<Finding> {
        let detector = self.detector_for(policy, entry, transcript, words);
        let mut findings = detector.detect(&transcript.words);
        for (label, rate, samples) in streams {
            let mut digits = Vec::new();
            let mut dtmf = media::InbandDetector::with_sample_rate(*rate);
            dtmf.process(samples, &mut digits);
            dtmf.finish(&mut digits);
            findings.extend(
                digits
                    .iter()
                    .map(|d| detector.dtmf(Some(label), d.start_ms(*rate), d.end_ms(*rate))),
            );
        }
        findings.sort_by_key(|f| (f.start_ms, f.end_ms));
        findings
    }

    /// Runs PII detection over a recording (a read of it: `listen` under its own policy
    /// version, a purpose and a reason, audited as `pii.detect` before anything is
    /// decrypted). Findings hold times, kinds and hashed evidence, never the values;
    /// nothing is stored (a derivative keeps the spans it removed).
    #[allow(clippy::too_many_arguments)]
    pub async fn detect_pii(
        &self,
        id: &str,
        purpose: &str,
        reason: &str,
        words: &[String],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Finding>, ServiceError> {
        let entry = self.entry_for(id, actor, "pii.detect", now).await?;
        let (principal, policy, permit, detail) = self
            .source_read(actor, &entry, AccessAction::Listen, purpose, reason, "pii.detect", now)
            .await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "pii.detect", Outcome::Allowed)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id)
                .purpose(purpose, reason)
                .detail(detail),
        )
        .await?;
        let transcript = self.stored_transcript(&permit, &entry).await?.unwrap_or_default();
        let streams = self.decoded_streams(&permit, &entry).await?;
        Ok(self.findings(&policy, &entry, &transcript, &streams, words))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_spans_must_be_ordered_inside_the_recording_and_touch_the_clip() {
        type Case<'a> = (&'a [(u64, u64)], Result<(), &'a str>);
        let cases: &[Case] = &[
            (&[], Ok(())),
            (&[(1000, 2000)], Ok(())),
            (&[(0, 10_000)], Ok(())),
            (&[(500, 1500)], Ok(())), // starts before the clip, ends inside it
            (&[(2000, 2000)], Err("span-invalid")),
            (&[(3000, 2000)], Err("span-invalid")),
            (&[(9000, 10_001)], Err("span-outside-recording")),
            (&[(u64::MAX - 1, u64::MAX)], Err("span-outside-recording")),
            (&[(0, 1000)], Err("span-outside-clip")),
            (&[(8000, 9000)], Err("span-outside-clip")),
            (&[(1000, 2000), (5, 4)], Err("span-invalid")),
        ];
        for (add, expected) in cases {
            let got = check_review_spans(add, 10_000, (1000, 8000)).map_err(|e| e.code);
            assert_eq!(got.as_ref().copied().map_err(String::as_str), *expected, "{add:?}");
        }
    }
}
