//! Command-line arguments (clap). The names are a contract: see DESIGN.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// callvault: records calls and governs recordings by policy.
#[derive(Debug, Parser)]
#[command(name = "callvault", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Data directory (catalog, encrypted objects, spool).
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Key directory (master key, number-hash key, key store); outside the data directory.
    #[arg(long, global = true, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Configuration file (default: ./callvault.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Act as this user ([TENANT/]NAME); the password comes from CALLVAULT_PASSWORD or a prompt.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: HTTP API (and, later, the SIPREC recorder and workers).
    Serve(ServeArgs),
    /// Create and configure tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Check, render and version policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Import a recording made elsewhere (WAV + META.json); prints the new id.
    Ingest(IngestArgs),
    /// List, show, export and erase recordings.
    #[command(subcommand)]
    Recordings(RecordingsCommand),
    /// Inspect and verify the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Import TPS/CTPS registers and do-not-call lists; list them; record overrides.
    #[command(subcommand)]
    Screening(ScreeningCommand),
    /// Which registers list these numbers, and may a marketing call go to them?
    Screen(ScreenArgs),
    /// Create the first administrator of a tenant.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Add, list, lock and unlock users (administrators).
    #[command(subcommand)]
    User(UserCommand),
    /// Teams and their managers (administrators).
    #[command(subcommand)]
    Team(TeamCommand),
    /// Access grants (the policy's grant issuer, the security officer).
    #[command(subcommand)]
    Grant(GrantCommand),
    /// Training attestations (administrators).
    #[command(subcommand)]
    Attest(AttestCommand),
    /// API bearer tokens for the acting user.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Delete every recording whose retention has ended (a signed deletion certificate results).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Place, lift and list legal holds (a held recording survives retention and erasure).
    #[command(subcommand)]
    Hold(HoldCommand),
    /// What a DPO checks, per tenant and policy.
    #[command(subcommand)]
    Compliance(ComplianceCommand),
    /// Transcripts of recordings: import (WebVTT, Whisper, AWS), transcribe, show.
    #[command(subcommand)]
    Transcript(crate::commands::redaction::TranscriptCommand),
    /// Redacted copies with lineage: training copies, FAQ clips; review, approve, export.
    #[command(subcommand)]
    Derivative(crate::commands::redaction::DerivativeCommand),
    /// Data-subject requests: open, verify, search, decide, fulfil (copy bundle, erasure,
    /// restriction), close; overdue ones (acting --as the policy's request handler).
    #[command(subcommand)]
    Request(RequestCommand),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Json,
    Html,
}

#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Past-retention recordings, holds, requests, reads without purpose, alerts, review status,
    /// screening flags and the audit chain's status.
    Report {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value = "json")]
        format: ReportFormat,
        /// Report as of this time (RFC 3339) instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Write the report to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// Exit non-zero when the report finds a problem (for monitoring).
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Run one sweep now (the worker inside `serve` runs them periodically).
    Run {
        /// Sweep as of this time (RFC 3339) instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Recordings per batch (one audit event each; default 1000).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch: Option<u32>,
        /// Also write the signed deletion certificate (JSON) to this file.
        #[arg(long, value_name = "FILE")]
        certificate: Option<std::path::PathBuf>,
        /// Print the certificate as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Place a legal hold on a recording; prints the hold id.
    Place {
        id: String,
        #[arg(long)]
        reason: String,
        /// When the hold ends by itself (RFC 3339); without it, it lasts until lifted.
        #[arg(long, value_name = "RFC3339")]
        expires: Option<String>,
    },
    /// Lift a legal hold.
    Lift { hold_id: String },
    /// List legal holds.
    List {
        #[arg(long)]
        tenant: Option<String>,
        /// Only holds in force now.
        #[arg(long)]
        active: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// HTTP listen address (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub http_listen: Option<String>,
    /// SIP listen address, UDP and TCP (default 0.0.0.0:5060).
    #[arg(long, value_name = "ADDR")]
    pub sip_listen: Option<String>,
    /// The tenant live calls are recorded for when no routing rule picks one.
    #[arg(long, value_name = "NAME")]
    pub sip_default_tenant: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant bound to a policy file.
    Create {
        name: String,
        #[arg(long, value_name = "FILE")]
        policy: PathBuf,
    },
    /// Change a tenant's settings.
    Set {
        name: String,
        /// Recording on or off (for tenant-opt-in policies).
        #[arg(long)]
        recording: Option<OnOff>,
        /// Tenant-set retention, e.g. "2 years", "90 days".
        #[arg(long, value_name = "DURATION")]
        retention: Option<String>,
        /// The organisation's own numbers.
        #[arg(long, value_delimiter = ',', value_name = "N,...")]
        service_numbers: Option<Vec<String>>,
        /// Agent SIP URIs or domains.
        #[arg(long, value_delimiter = ',', value_name = "P,...")]
        agent_pattern: Option<Vec<String>>,
        /// Default country for national-format numbers (ISO 3166, e.g. GB, FI).
        #[arg(long, value_name = "CC")]
        country: Option<String>,
        /// This tenant is the provider recording its own lines (TO-OWNLINES).
        #[arg(long)]
        provider: Option<OnOff>,
    },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant with its policy versions and review status.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file; errors name file:line and field.
    Check {
        file: PathBuf,
        /// Judge the review date against this time instead of now (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Print a policy as a readable notice (Markdown).
    Render { file: PathBuf },
    /// Propose a new version of a tenant's policy: recorded pending, with its change of
    /// purposes, retention and access; it takes effect only once approved.
    Update {
        tenant: String,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Approve a pending version (--as a user with the role the active policy names in
    /// changes.approved_by, default compliance); it becomes the active version.
    Approve {
        tenant: String,
        #[arg(value_name = "VERSION")]
        number: i64,
        #[arg(long)]
        json: bool,
    },
    /// Reject a pending version (--as a user with the approving role); it never takes effect.
    Reject {
        tenant: String,
        #[arg(value_name = "VERSION")]
        number: i64,
        /// Why, kept with the decision.
        #[arg(long)]
        reason: Option<String>,
    },
    /// List a tenant's policy versions with their state, change and approval.
    Versions {
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Print the text of one stored version (--json: with its state, change and approval).
    Show {
        tenant: String,
        #[arg(value_name = "VERSION")]
        number: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The WAV file.
    pub audio: PathBuf,
    #[arg(long)]
    pub tenant: String,
    /// Metadata JSON (direction, started_at, customer_number, service_number, agent, purposes, consent, participants).
    #[arg(long, value_name = "META.json")]
    pub meta: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Wav,
    WavStereo,
    Ogg,
}

#[derive(Debug, Subcommand)]
pub enum RecordingsCommand {
    /// Search a tenant's register (newest first): a read, so --purpose and --reason.
    List {
        /// Default: the acting user's tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Search by the customer's number (E.164 or national), matched through the keyed hash.
        #[arg(long, value_name = "NUMBER")]
        customer_number: Option<String>,
        /// One of the policy's purposes.
        #[arg(long)]
        purpose: Option<String>,
        /// Why this search is needed (kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
        /// The agent, as the recordings name them.
        #[arg(long)]
        agent: Option<String>,
        /// inbound, outbound or unknown.
        #[arg(long)]
        direction: Option<String>,
        /// At most this many results.
        #[arg(long)]
        limit: Option<i64>,
        /// Started at or after (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        from: Option<String>,
        /// Started at or before (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one recording's register entry (a read: --purpose and --reason).
    Show {
        id: String,
        #[arg(long)]
        purpose: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Decrypt, verify and write a recording's audio as WAV.
    Export {
        id: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// One of the purposes of the recording's policy.
        #[arg(long)]
        purpose: String,
        /// Why this read is needed (kept in the audit log).
        #[arg(long)]
        reason: String,
        #[arg(long, value_enum, default_value = "wav")]
        format: ExportFormatArg,
        /// Only this stream (by label).
        #[arg(long, value_name = "LABEL")]
        stream: Option<String>,
    },
    /// Erase a recording now (crypto-shred; a tombstone remains).
    Erase {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain and every signed checkpoint; names the first bad event.
    Verify {
        /// Also prove the log still extends this checkpoint (kept elsewhere).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Sign the head of the chain and write it to FILE, to keep elsewhere.
    Checkpoint {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print audit events as JSON lines.
    Export {
        /// From this time (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        from: Option<String>,
        /// Up to this time (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        to: Option<String>,
        /// JSON lines (the only output form; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
    /// Denied attempts and alerts per user in a period (ARLO-SECURITY).
    Alerts {
        /// From this time (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        from: Option<String>,
        /// Up to this time (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

/// What unmarked records of a change file do.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChangeActionArg {
    Add,
    Remove,
}

/// How an imported file is laid out.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RegisterFormatArg {
    /// TPS/CTPS: 12-character records and CRLF.
    Register,
    /// CSV with a number column, or one number per line.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ScreeningCommand {
    /// Import a TPS/CTPS file (full or change file) or a do-not-call list.
    Import {
        file: PathBuf,
        /// tps, ctps, or the name of a do-not-call list.
        #[arg(long, value_name = "tps|ctps|NAME")]
        register: String,
        /// A change file: records marked A (add) or D (remove) before or after the number.
        #[arg(long)]
        changes: bool,
        /// In a change file, what records without a marker do (separate addition/removal files).
        #[arg(long, value_enum, requires = "changes", value_name = "add|remove")]
        unmarked_as: Option<ChangeActionArg>,
        /// Layout (default: register records for tps and ctps, a list otherwise).
        #[arg(long, value_enum)]
        format: Option<RegisterFormatArg>,
        /// The file's date (default: its modification date).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// Country for national numbers in lists.
        #[arg(long, value_name = "CC", default_value = "GB")]
        country: String,
        /// A CSV list's number column, by header name.
        #[arg(long, value_name = "NAME")]
        column: Option<String>,
        /// Show progress even when stderr is not a terminal.
        #[arg(long)]
        progress: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the registers and the files they came from.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Allow a tenant's marketing call to a listed number (e.g. an existing customer who consented); audited.
    Override {
        number: String,
        #[arg(long)]
        tenant: String,
        /// Why the call is allowed (kept in the audit log).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// Numbers in E.164 or national form.
    #[arg(required = true, value_name = "NUMBER")]
    pub numbers: Vec<String>,
    /// The tenant whose policy decides (without: any listing forbids a marketing call).
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a tenant's first administrator; refused when it has one.
    Init {
        name: String,
        #[arg(long)]
        tenant: String,
        /// Read the password from the first line of stdin (else CALLVAULT_PASSWORD or a prompt).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user with roles (built in or declared by the tenant's policy).
    Add {
        name: String,
        /// The tenant (default: the acting user's).
        #[arg(long)]
        tenant: Option<String>,
        /// A role; repeat or separate with commas.
        #[arg(long, required = true, value_delimiter = ',')]
        role: Vec<String>,
        /// The team the user is a member of.
        #[arg(long)]
        team: Option<String>,
        /// A name under which recordings name this user as their agent (display name, SIP
        /// address, extension); repeat for several.
        #[arg(long = "agent-id", value_name = "ALIAS")]
        agent_id: Vec<String>,
        /// Read the new user's password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set the names under which recordings name a user as their agent (replaces the list).
    AgentIds {
        name: String,
        #[arg(long)]
        tenant: Option<String>,
        /// The aliases; none clears the list.
        aliases: Vec<String>,
    },
    /// List the users of a tenant.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Lock a user: every token and session ends.
    Lock {
        name: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Unlock a user (also clears a lockout after failed sign-ins).
    Unlock {
        name: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Set a user's password (your own, or anybody's as an administrator); their tokens and sessions end.
    Passwd {
        name: String,
        #[arg(long)]
        tenant: Option<String>,
        /// Read the new password from the next line of stdin (else a prompt).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a team.
    Add {
        name: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Make a user a manager of a team (a manager may manage several).
    SetManager {
        team: String,
        user: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Move a member to another team. Calls made before the move stay with the team they
    /// were made in (its manager keeps them; the new manager does not get them).
    Move {
        user: String,
        /// The team the user joins.
        #[arg(long)]
        to: String,
        /// When the move took effect (RFC 3339; default now; not later than now).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List teams with members and managers.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Issue an expiring access grant to a user or a role.
    Add {
        /// The user who receives the grant.
        #[arg(long, value_name = "USER", conflicts_with = "role", required_unless_present = "role")]
        to: Option<String>,
        /// The role that receives the grant.
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        /// tenant, team:NAME or agent:NAME.
        #[arg(long)]
        scope: String,
        /// One of the tenant policy's purposes.
        #[arg(long)]
        purpose: String,
        /// When it ends: an RFC 3339 time or a duration from now ("30 days").
        #[arg(long, value_name = "RFC3339|DURATION")]
        expires: String,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's grants with their state.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a grant.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Record that a user completed a training (POSTI-TRAINING).
    Add {
        user: String,
        #[arg(long)]
        training: String,
        /// The day it was completed (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List a tenant's training attestations.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API bearer token for the acting user; the value is printed once.
    Create {
        /// When it ends: an RFC 3339 time or a duration from now (default 30 days).
        #[arg(long, value_name = "RFC3339|DURATION")]
        expires: Option<String>,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Receive a request (prints its id); the due date follows from the tenant's policy.
    Open {
        /// The tenant (default: the acting user's).
        #[arg(long)]
        tenant: Option<String>,
        /// information, access, copy, rectification, completion, erasure, portability,
        /// restriction, objection, consent-withdrawal (as the policy offers them).
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        /// email, phone, post, web, in-person (as the policy accepts them).
        #[arg(long)]
        channel: String,
        /// Who made the request.
        #[arg(long)]
        requester: String,
        /// The subject's number (repeat for several).
        #[arg(long = "number", value_name = "NUMBER")]
        numbers: Vec<String>,
        /// When the request arrived (RFC 3339; default now).
        #[arg(long, value_name = "RFC3339")]
        received_at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Record that the requester's identity was verified, and how.
    Verify {
        id: String,
        #[arg(long)]
        method: String,
        #[arg(long)]
        json: bool,
    },
    /// Find the subject's recordings by number, date and approximate time.
    Search {
        id: String,
        /// More numbers of the subject (the request's own are always searched).
        #[arg(long = "number", value_name = "NUMBER")]
        numbers: Vec<String>,
        /// The day of the call (UTC); without it, every recording of the number.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// The approximate time of the call (UTC); without it, the whole day.
        #[arg(long, value_name = "HH:MM", requires = "date")]
        time: Option<String>,
        /// How far from --time a call may have been.
        #[arg(long, value_name = "MINUTES", default_value_t = 15)]
        window_minutes: u32,
        #[arg(long)]
        json: bool,
    },
    /// Decide for one recording found: --fulfil, or --deny REASON (legal-obligation,
    /// contract, protection-of-a-party, legal-claims, rights-of-others, manifestly-unfounded).
    Decide {
        id: String,
        #[arg(long)]
        recording: String,
        #[arg(long, conflicts_with = "deny", required_unless_present = "deny")]
        fulfil: bool,
        #[arg(long, value_name = "REASON")]
        deny: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Record a participant's consent to a copy of a recording (CSI-COPY).
    Consent {
        id: String,
        #[arg(long)]
        recording: String,
        /// The participant's index or role (agent, customer...).
        #[arg(long)]
        participant: String,
        /// How the consent was given.
        #[arg(long)]
        evidence: String,
        #[arg(long)]
        json: bool,
    },
    /// Carry the decisions out: a copy bundle (written to --out), erasure, restriction.
    Fulfil {
        id: String,
        /// Where the copy bundle goes (a new directory; default ./request-ID).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Lift the restrictions a request placed (use of the recordings resumes).
    LiftRestriction {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Close an open request without fulfilling it.
    Close {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Show one request.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// List the requests of a tenant (default: the acting user's).
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Supervised playback sessions (POSTI-SUPERVISED): the visiting data subject
    /// listens to a released recording; stream only, time-limited, audited.
    #[command(subcommand)]
    Playback(PlaybackCommand),
    /// Open requests past their due date (WEBEO-30DAYS).
    Overdue {
        #[arg(long)]
        tenant: Option<String>,
        /// As of this time (RFC 3339) instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlaybackCommand {
    /// Open a session for one recording the request decided to fulfil; prints the
    /// session id, the audio path on the HTTP API and the token (shown only once).
    Open {
        /// The request (fulfilled by supervised playback, every recording decided).
        request: String,
        #[arg(long)]
        recording: String,
        /// How long the session lasts (1 to 120).
        #[arg(long, value_name = "N", default_value_t = 30)]
        minutes: u32,
        /// Opened as of this time (RFC 3339; not later than the clock), for operators
        /// and tests recording a session that began earlier.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Close a session before it expires (its audio answers 410 from then on).
    Close {
        session: String,
        #[arg(long)]
        json: bool,
    },
}
