//! The health the tray shows: the gateway answers, and no SLO alert is firing.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// The gateway answers and no SLO is burning.
    Ok,
    /// The gateway answers but at least one SLO alert is firing.
    SloBurning,
    /// The gateway does not answer (its task ended or the port refuses connections).
    GatewayDown,
}

impl Health {
    /// A down gateway outranks a burning SLO: nothing else can be seen while it is down.
    pub fn classify(gateway_up: bool, firing_alerts: usize) -> Health {
        match (gateway_up, firing_alerts) {
            (false, _) => Health::GatewayDown,
            (true, 0) => Health::Ok,
            (true, _) => Health::SloBurning,
        }
    }

    /// The status line of the tray menu and the first line of the tooltip.
    pub fn label(self, firing_alerts: usize) -> String {
        match self {
            Health::Ok => "Healthy".into(),
            Health::SloBurning if firing_alerts == 1 => "SLO burning: 1 alert firing".into(),
            Health::SloBurning => format!("SLO burning: {firing_alerts} alerts firing"),
            Health::GatewayDown => "Gateway down".into(),
        }
    }

    pub fn tooltip(self, firing_alerts: usize, url: &str) -> String {
        format!("MicroClaw Console — {}\n{url}", self.label(firing_alerts))
    }

    /// The colour of the dot drawn on the tray icon (RGBA).
    pub fn badge_color(self) -> [u8; 4] {
        match self {
            Health::Ok => [0x2e, 0xc2, 0x6a, 0xff],
            Health::SloBurning => [0xf5, 0xa5, 0x24, 0xff],
            Health::GatewayDown => [0xe5, 0x3e, 0x3e, 0xff],
        }
    }
}

/// True when a TCP connection to the gateway opens within `timeout`.
pub async fn gateway_answers(addr: SocketAddr, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let cases = [
            (true, 0, Health::Ok),
            (true, 1, Health::SloBurning),
            (true, 3, Health::SloBurning),
            (false, 0, Health::GatewayDown),
            (false, 2, Health::GatewayDown), // down outranks burning
        ];
        for (up, firing, want) in cases {
            assert_eq!(
                Health::classify(up, firing),
                want,
                "gateway_up={up} firing={firing}"
            );
        }
    }

    #[test]
    fn labels_say_what_is_wrong() {
        assert_eq!(Health::Ok.label(0), "Healthy");
        assert_eq!(Health::SloBurning.label(1), "SLO burning: 1 alert firing");
        assert_eq!(Health::SloBurning.label(2), "SLO burning: 2 alerts firing");
        assert!(Health::GatewayDown
            .tooltip(0, "http://127.0.0.1:1/")
            .contains("Gateway down"));
    }

    #[test]
    fn each_state_has_its_own_colour() {
        let c = [Health::Ok, Health::SloBurning, Health::GatewayDown].map(Health::badge_color);
        assert!(c[0] != c[1] && c[1] != c[2] && c[0] != c[2]);
    }

    #[tokio::test]
    async fn probing_sees_a_listener_and_a_closed_port() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        assert!(gateway_answers(addr, Duration::from_secs(2)).await);
        drop(l);
        assert!(
            !gateway_answers(addr, Duration::from_secs(2)).await,
            "a closed port is down"
        );
    }
}
