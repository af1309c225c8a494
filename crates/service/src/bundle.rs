//! The copy of a data subject's recordings (copy and portability requests, CSI-COPY,
//! WEBEO-NOSHARE): the only path by which audio leaves for an outsider.
//!
//! A bundle is a directory of:
//! - `recordings/<id>.wav`: the audio (customer left, agent right for two streams; only
//!   the subject's own stream for an own-voice copy);
//! - `recordings/<id>.vcon.json`: the conversation as a vCon (draft-ietf-vcon-vcon-core:
//!   parties, a `recording` dialog naming the WAV by file name and SHA-512 content hash,
//!   the recording's metadata as an attachment);
//! - `manifest.json`: request id, policy version, each recording's metadata, and the
//!   SHA-256 of every other file;
//! - `manifest.sig`: an Ed25519 signature (hex) over `manifest.json`'s bytes with the
//!   audit signing key, whose id and public key the manifest names.
//!
//! The subject's own number is shown unmasked here, and only here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use governance::authz::{AccessAction, Workflow};
use governance::identity::Principal;
use governance::requests::{self as core, CopyParty, CopyScope, Request};
use governance::{Actor, AuditEvent, Outcome};
use policy::Policy;
use sha2::{Digest, Sha256, Sha512};
use uuid::Uuid;

use crate::error::{ErrorKind, ServiceError};
use crate::{ExportFormat, ExportRequest, Service};

/// The format name in every manifest.
pub const BUNDLE_FORMAT: &str = "callvault-subject-copy-v1";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SIGNATURE_FILE: &str = "manifest.sig";

/// One file of a bundle: a path relative to the bundle's directory, and its bytes.
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A copy for a data subject, ready to be written out.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub files: Vec<BundleFile>,
    pub manifest_sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Base64url without padding (RFC 4648 §5), as vCon content hashes use it.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A vCon content hash: `sha512-` and the base64url digest.
fn content_hash(bytes: &[u8]) -> String {
    format!("sha512-{}", base64url(&Sha512::digest(bytes)))
}

/// A version-8 UUID derived from the request and the recording, so the same copy of the
/// same conversation always has the same vCon id.
fn vcon_uuid(request: Uuid, recording: Uuid) -> Uuid {
    let digest = Sha256::new()
        .chain_update(request.as_bytes())
        .chain_update(recording.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Checks a bundle as its recipient would: the signature over the manifest against the
/// public key it names, and the SHA-256 of every file it lists. `files` holds every file
/// of the bundle by relative name.
pub fn verify_bundle(files: &HashMap<String, Vec<u8>>) -> Result<serde_json::Value, String> {
    let manifest_bytes = files.get(MANIFEST_FILE).ok_or("no manifest.json")?;
    let signature = files.get(SIGNATURE_FILE).ok_or("no manifest.sig")?;
    let manifest: serde_json::Value =
        serde_json::from_slice(manifest_bytes).map_err(|e| format!("manifest.json: {e}"))?;
    let public_key = manifest["signature"]["public_key"].as_str().ok_or("no public key")?;
    let signature = std::str::from_utf8(signature)
        .map_err(|_| "manifest.sig is not text")?
        .trim();
    if vault::key_id(&hex::decode(public_key).unwrap_or_default())
        != manifest["signature"]["key_id"].as_str().unwrap_or("")
        || !vault::verify_detached(public_key, manifest_bytes, signature)
    {
        return Err("the signature over manifest.json does not verify".into());
    }
    let listed = manifest["files"].as_array().ok_or("no file list")?;
    for file in listed {
        let name = file["name"].as_str().ok_or("a file without a name")?;
        let bytes = files.get(name).ok_or_else(|| format!("{name} is missing"))?;
        if file["sha256"].as_str() != Some(sha256_hex(bytes).as_str()) {
            return Err(format!("{name} does not match its SHA-256"));
        }
    }
    if listed.len() + 2 != files.len() {
        return Err("the bundle holds files its manifest does not list".into());
    }
    Ok(manifest)
}

impl Service {
    /// Builds the copy for `request` (identity verified, every recording decided): each
    /// recording decided `fulfil` is read under the reserved purpose
    /// `data-subject-request` (audited as `recording.export`) once the copy rule allows
    /// it. Returns the bundle and each recording's outcome.
    pub(crate) async fn build_copy_bundle(
        &self,
        principal: &Principal,
        request: &Request,
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Result<(Bundle, Vec<(Uuid, String)>), ServiceError> {
        let catalog = self.vault.catalog();
        let numbers: HashMap<String, Option<String>> = catalog
            .request_numbers(request.id)
            .await?
            .into_iter()
            .map(|n| (n.number_hash, n.e164))
            .collect();
        let consents = catalog.copy_consents(request.id).await?;
        let actor = Actor::from(principal.clone());
        let reason = format!("data-subject request {}", request.id);
        let mut files = Vec::new();
        let mut recordings = Vec::new();
        let mut outcomes = Vec::new();
        // First every copy rule, so that a refusal reads no audio at all.
        let mut plans = Vec::new();
        for m in request.fulfilled_recordings() {
            request.check_copy(policy, m.recording_id)?;
            let entry = match catalog.visible_entry(m.recording_id).await {
                Ok(entry) => entry,
                Err(vault::VaultError::NotFound(_)) => {
                    outcomes.push((m.recording_id, "no-longer-held".to_owned()));
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let by_number: Vec<i64> = entry
                .participants
                .iter()
                .filter(|p| p.number_hash.as_deref() == Some(m.number_hash.as_str()))
                .map(|p| p.idx)
                .collect();
            let subject: Vec<i64> = if by_number.is_empty()
                && entry.recording.customer_number_hash.as_deref() == Some(m.number_hash.as_str())
            {
                entry
                    .participants
                    .iter()
                    .filter(|p| p.role == "customer")
                    .take(1)
                    .map(|p| p.idx)
                    .collect()
            } else {
                by_number
            };
            let parties: Vec<CopyParty> = entry
                .participants
                .iter()
                .map(|p| CopyParty {
                    idx: p.idx,
                    role: p.role.clone(),
                    is_subject: subject.contains(&p.idx),
                })
                .collect();
            let consented: Vec<i64> = consents
                .iter()
                .filter(|c| c.recording_id == m.recording_id)
                .map(|c| c.participant)
                .collect();
            let scope = core::copy_scope(policy, &parties, &consented)
                .map_err(ServiceError::from)
                .map_err(|mut err| {
                    err.message = format!("recording {}: {}", m.recording_id, err.message);
                    err
                })?;
            plans.push((m, entry, subject, scope));
        }
        for (m, entry, subject, scope) in plans {
            let id = m.recording_id.to_string();
            let (format, stream, scope_name) = match &scope {
                CopyScope::WholeCall if entry.streams.len() == 2 => (ExportFormat::WavStereo, None, "whole-call"),
                CopyScope::WholeCall => (ExportFormat::Wav, None, "whole-call"),
                CopyScope::OwnVoice { participant } => {
                    let own: Vec<&vault::StreamRecord> = entry
                        .streams
                        .iter()
                        .filter(|s| s.participant == Some(*participant))
                        .collect();
                    let [one] = own.as_slice() else {
                        return Err(ServiceError::new(
                            ErrorKind::Refused,
                            "own-voice-stream-missing",
                            format!("recording {id}: the subject's voice is not on exactly one stream"),
                        ));
                    };
                    (ExportFormat::Wav, Some(one.label.as_str()), "own-voice")
                }
            };
            let export = ExportRequest {
                id: &id,
                purpose: core::PURPOSE,
                reason: &reason,
                format,
                stream,
            };
            let audio = self
                .read_audio(
                    &export,
                    AccessAction::Export,
                    Some(Workflow::DataSubjectRequest),
                    &actor,
                    now,
                )
                .await?;
            let audio_name = format!("recordings/{id}.wav");
            let vcon_name = format!("recordings/{id}.vcon.json");
            let subject_number = numbers.get(&m.number_hash).cloned().flatten();
            let r = &entry.recording;
            let metadata = serde_json::json!({
                "recording_id": id,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "duration_ms": r.duration_ms,
                "direction": r.direction,
                "subject_number": subject_number,
                "service_number": r.service_number,
                "purposes": r.purposes,
                "legal_basis": r.legal_basis,
                "retain_until": r.retain_until,
                "policy_version": r.policy_version,
                "scope": scope_name,
                "participants": entry.participants.iter()
                    .filter(|p| scope == CopyScope::WholeCall || subject.contains(&p.idx))
                    .map(|p| serde_json::json!({"index": p.idx, "role": p.role, "subject": subject.contains(&p.idx)}))
                    .collect::<Vec<_>>(),
            });
            let vcon = self.vcon(
                request,
                &entry,
                &subject,
                &scope,
                subject_number.as_deref(),
                &audio.wav,
                &audio_name,
                &metadata,
                now,
            );
            let vcon_bytes = serde_json::to_vec_pretty(&vcon).expect("vCon serialises");
            recordings.push(serde_json::json!({
                "metadata": metadata,
                "audio": audio_name,
                "vcon": vcon_name,
            }));
            files.push(BundleFile {
                name: audio_name,
                bytes: audio.wav,
            });
            files.push(BundleFile {
                name: vcon_name,
                bytes: vcon_bytes,
            });
            let outcome = if scope == CopyScope::WholeCall {
                "copied"
            } else {
                "copied-own-voice"
            };
            outcomes.push((m.recording_id, outcome.to_owned()));
        }
        let withheld: Vec<serde_json::Value> = request
            .matches
            .iter()
            .filter_map(|m| {
                let reason = m.decision?.reason()?;
                Some(serde_json::json!({"recording_id": m.recording_id, "reason": reason.as_str()}))
            })
            .collect();
        let record = self.policy_version(&request.tenant, request.policy_version).await?;
        let key = self.vault.signing_key()?;
        let manifest = serde_json::json!({
            "format": BUNDLE_FORMAT,
            "request_id": request.id,
            "request_type": core::kind_name(request.kind),
            "tenant": request.tenant,
            "controller": policy.controller.name,
            "policy": {"id": record.policy_id, "version": record.version, "document_version": record.document_version},
            "generated_at": now,
            "generated_by": principal.actor(),
            "subject_numbers": numbers.values().flatten().collect::<Vec<_>>(),
            "recordings": recordings,
            "withheld": withheld,
            "files": files.iter().map(|f| serde_json::json!({
                "name": f.name, "sha256": sha256_hex(&f.bytes), "bytes": f.bytes.len(),
            })).collect::<Vec<_>>(),
            "signature": {
                "algorithm": "Ed25519",
                "file": SIGNATURE_FILE,
                "over": MANIFEST_FILE,
                "key_id": key.key_id(),
                "public_key": key.public_key_hex(),
            },
        });
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        let signature = key.sign_detached(&manifest_bytes);
        let manifest_sha256 = sha256_hex(&manifest_bytes);
        files.push(BundleFile {
            name: MANIFEST_FILE.into(),
            bytes: manifest_bytes,
        });
        files.push(BundleFile {
            name: SIGNATURE_FILE.into(),
            bytes: format!("{signature}\n").into_bytes(),
        });
        self.audit(
            AuditEvent::new(now, &principal.actor(), "request.bundle", Outcome::Done)
                .tenant(&request.tenant)
                .purpose(core::PURPOSE, &reason)
                .detail(serde_json::json!({
                    "request_id": request.id,
                    "recordings": outcomes.iter().map(|(id, o)| serde_json::json!({"recording_id": id, "outcome": o})).collect::<Vec<_>>(),
                    "withheld": withheld.len(),
                    "manifest_sha256": manifest_sha256,
                    "to": "data-subject",
                })),
        )
        .await?;
        Ok((Bundle { files, manifest_sha256 }, outcomes))
    }

    /// The conversation as a vCon (draft-ietf-vcon-vcon-core): the parties in the copy,
    /// one `recording` dialog referencing the WAV by file name and content hash, and the
    /// recording's metadata as a JSON attachment.
    #[allow(clippy::too_many_arguments)]
    fn vcon(
        &self,
        request: &Request,
        entry: &vault::RecordingEntry,
        subject: &[i64],
        scope: &CopyScope,
        subject_number: Option<&str>,
        wav: &[u8],
        audio_name: &str,
        metadata: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> serde_json::Value {
        let r = &entry.recording;
        let included: Vec<&vault::ParticipantRecord> = entry
            .participants
            .iter()
            .filter(|p| *scope == CopyScope::WholeCall || subject.contains(&p.idx))
            .collect();
        let parties: Vec<serde_json::Value> = included
            .iter()
            .map(|p| {
                let mut party = serde_json::json!({"role": p.role});
                let number = if subject.contains(&p.idx) {
                    subject_number
                } else if p.role == "agent" {
                    r.service_number.as_deref()
                } else {
                    None
                };
                if let Some(number) = number {
                    party["tel"] = serde_json::json!(format!("tel:{number}"));
                }
                party
            })
            .collect();
        let indices: Vec<usize> = (0..included.len()).collect();
        let subject_index = included.iter().position(|p| subject.contains(&p.idx)).unwrap_or(0);
        let mut dialog = serde_json::json!({
            "type": "recording",
            "start": r.started_at,
            "parties": indices,
            "mediatype": "audio/x-wav",
            "filename": audio_name,
            "content_hash": content_hash(wav),
        });
        if let Some(ms) = r.duration_ms {
            dialog["duration"] = serde_json::json!(ms as f64 / 1000.0);
        }
        let originator = if r.direction == "inbound" {
            included.iter().position(|p| p.role == "customer")
        } else {
            included.iter().position(|p| p.role == "agent")
        };
        if let Some(first) = originator.filter(|i| *i != 0) {
            dialog["originator"] = serde_json::json!(first);
        }
        serde_json::json!({
            "uuid": vcon_uuid(request.id, r.id),
            "created_at": now,
            "subject": format!("Call recording {} (data-subject request {})", r.id, request.id),
            "parties": parties,
            "dialog": [dialog],
            "attachments": [{
                "purpose": "callvault-recording-metadata",
                "start": r.started_at,
                "party": subject_index,
                "dialog": 0,
                "mediatype": "application/json",
                "encoding": "json",
                "body": metadata,
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), expected);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn vcon_ids_are_stable_version_8_uuids() {
        let a = vcon_uuid(Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(a, vcon_uuid(Uuid::from_u128(1), Uuid::from_u128(2)));
        assert_ne!(a, vcon_uuid(Uuid::from_u128(1), Uuid::from_u128(3)));
        assert_eq!(a.get_version_num(), 8);
    }
}
