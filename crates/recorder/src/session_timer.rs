//! Session timers (RFC 4028) as the recording server answers them: the interval the
//! client asked for is accepted (or refused as too small), and the refresher is the
//! client whenever it supports the extension, since the recorder sends no refreshes of
//! its own. Pure.

/// The smallest session interval accepted (RFC 4028 §4: at least 90 seconds).
pub const MIN_SE: u32 = 90;

/// What the request said about session timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimerRequest<'a> {
    /// `Session-Expires`: `None` if absent, `Some(None)` if malformed, else (seconds, refresher).
    pub session_expires: Option<Option<(u32, Option<&'a str>)>>,
    /// `Supported: timer` (or `Require: timer`).
    pub supports_timer: bool,
}

/// How the 2xx answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerAnswer {
    /// No session timer for this dialog: no header in the answer.
    None,
    /// `Session-Expires: <value>` in the 2xx, and `Require: timer` when `require_timer`.
    Accept {
        session_expires: String,
        require_timer: bool,
    },
    /// `422 Session Interval Too Small` with `Min-SE: <min_se>`.
    TooSmall { min_se: u32 },
    /// `400 Bad Request`: the header cannot be read.
    Malformed,
}

/// Decides the answer to a request that may carry `Session-Expires`.
pub fn answer(request: TimerRequest<'_>) -> TimerAnswer {
    let (seconds, refresher) = match request.session_expires {
        None => return TimerAnswer::None,
        Some(None) => return TimerAnswer::Malformed,
        Some(Some(value)) => value,
    };
    if seconds < MIN_SE {
        return TimerAnswer::TooSmall { min_se: MIN_SE };
    }
    let refresher = refresher.map(str::to_ascii_lowercase);
    match (request.supports_timer, refresher.as_deref()) {
        // The client refreshes: it knows the extension, so `Require: timer` (§9).
        (true, None | Some("uac")) => TimerAnswer::Accept {
            session_expires: format!("{seconds};refresher=uac"),
            require_timer: true,
        },
        // The client asked the recorder to refresh: it is told so (§9 keeps its choice),
        // although the recorder sends no refreshes; the client ends the call at expiry
        // at worst, and the RTP inactivity timeout covers a client that vanished.
        (true, Some(_)) => TimerAnswer::Accept {
            session_expires: format!("{seconds};refresher=uas"),
            require_timer: true,
        },
        // A proxy asked for a timer the client does not know: only the recorder could
        // refresh, and it does not, so the dialog goes without one (§9 lets the UAS
        // leave Session-Expires out).
        (false, _) => TimerAnswer::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        type Case = (Option<Option<(u32, Option<&'static str>)>>, bool, TimerAnswer);
        let cases: &[Case] = &[
            (None, true, TimerAnswer::None),
            (Some(None), true, TimerAnswer::Malformed),
            (
                Some(Some((60, Some("uac")))),
                true,
                TimerAnswer::TooSmall { min_se: 90 },
            ),
            (
                Some(Some((1800, Some("uac")))),
                true,
                TimerAnswer::Accept {
                    session_expires: "1800;refresher=uac".into(),
                    require_timer: true,
                },
            ),
            (
                Some(Some((90, None))),
                true,
                TimerAnswer::Accept {
                    session_expires: "90;refresher=uac".into(),
                    require_timer: true,
                },
            ),
            (
                Some(Some((600, Some("UAS")))),
                true,
                TimerAnswer::Accept {
                    session_expires: "600;refresher=uas".into(),
                    require_timer: true,
                },
            ),
            (Some(Some((1800, None))), false, TimerAnswer::None),
        ];
        for (session_expires, supports_timer, want) in cases {
            let got = answer(TimerRequest {
                session_expires: *session_expires,
                supports_timer: *supports_timer,
            });
            assert_eq!(&got, want, "{session_expires:?} supported={supports_timer}");
        }
    }
}
