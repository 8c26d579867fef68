#![allow(clippy::unwrap_used)]
mod common;

use microclaw_store::devices::{DeviceAdmission, DeviceSeen};

const TTL: i64 = 300_000;

fn seen(id: &str) -> DeviceSeen {
    DeviceSeen {
        device_id: id.into(),
        public_key: format!("pk-{id}"),
        client_id: "control-ui".into(),
        platform: Some("linux".into()),
        ..DeviceSeen::default()
    }
}

#[test]
fn a_new_device_waits_with_one_request_that_refreshes_then_expires() {
    let t = common::temp_store();
    let s = &t.store;
    let (v, row) = s
        .device_admit(&seen("d1"), true, 1000, TTL, "req-1")
        .unwrap();
    assert_eq!(
        v,
        DeviceAdmission::Pending {
            request_id: "req-1".into(),
            new_request: true
        }
    );
    assert_eq!(
        (row.status.as_str(), row.requested_at),
        ("pending", Some(1000))
    );
    // A reconnect within the window refreshes the same request.
    let (v, row) = s
        .device_admit(&seen("d1"), true, 2000, TTL, "req-2")
        .unwrap();
    assert_eq!(
        v,
        DeviceAdmission::Pending {
            request_id: "req-1".into(),
            new_request: false
        }
    );
    assert_eq!(row.requested_at, Some(2000));
    // Past the window the old request is gone: approving it fails, a connect makes a new one.
    assert!(s
        .device_approve("req-1", 2000 + TTL + 1, 2000 + 1)
        .unwrap()
        .is_none());
    let late = 2000 + TTL + 1;
    let (v, _) = s
        .device_admit(&seen("d1"), true, late, TTL, "req-3")
        .unwrap();
    assert_eq!(
        v,
        DeviceAdmission::Pending {
            request_id: "req-3".into(),
            new_request: true
        }
    );
    let d = s
        .device_approve("req-3", late + 5, late - TTL)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            d.status.as_str(),
            d.approved_at,
            d.approved_via.as_deref(),
            d.request_id
        ),
        ("paired", Some(late + 5), Some("owner"), None)
    );
    assert!(
        s.device_approve("req-3", late + 6, 0).unwrap().is_none(),
        "settled once"
    );
    let (v, _) = s
        .device_admit(&seen("d1"), true, late + 7, TTL, "req-4")
        .unwrap();
    assert_eq!(
        v,
        DeviceAdmission::Paired {
            newly: false,
            resolved_request: None
        }
    );
}

#[test]
fn reject_forgets_remove_and_rename_need_a_paired_device_and_revoked_stays_revoked() {
    let t = common::temp_store();
    let s = &t.store;
    s.device_admit(&seen("p"), true, 10, TTL, "rq").unwrap();
    assert!(
        !s.device_rename("p", "x").unwrap(),
        "pending devices cannot be renamed"
    );
    assert!(
        !s.device_remove("p").unwrap(),
        "pending devices are rejected, not removed"
    );
    assert_eq!(s.device_reject("rq", 0).unwrap().as_deref(), Some("p"));
    assert!(s.device_get("p").unwrap().is_none());
    assert!(s.device_reject("rq", 0).unwrap().is_none());

    let (v, row) = s
        .device_admit(&seen("q"), false, 20, TTL, "unused")
        .unwrap();
    assert_eq!(
        v,
        DeviceAdmission::Paired {
            newly: true,
            resolved_request: None
        }
    );
    assert_eq!(
        (row.approved_at, row.approved_via.as_deref()),
        (Some(20), Some("silent"))
    );
    assert!(s.device_rename("q", "Kitchen tablet").unwrap());
    assert_eq!(
        s.device_get("q").unwrap().unwrap().label.as_deref(),
        Some("Kitchen tablet")
    );
    assert!(s.device_revoke("q", 30).unwrap());
    let (v, _) = s.device_admit(&seen("q"), false, 40, TTL, "x").unwrap();
    assert_eq!(v, DeviceAdmission::Revoked);
    assert!(s.device_remove("q").unwrap());
    assert!(!s.device_remove("q").unwrap());
}

#[test]
fn turning_approval_off_lets_a_waiting_device_in_and_names_its_request() {
    let t = common::temp_store();
    let s = &t.store;
    s.device_admit(&seen("w"), true, 10, TTL, "rw").unwrap();
    let (v, row) = s
        .device_admit(&seen("w"), false, 20, TTL, "unused")
        .unwrap();
    assert_eq!(
        v,
        DeviceAdmission::Paired {
            newly: true,
            resolved_request: Some("rw".into())
        }
    );
    assert_eq!((row.status.as_str(), row.request_id), ("paired", None));
}
