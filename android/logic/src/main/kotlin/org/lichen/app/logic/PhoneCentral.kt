package org.lichen.app.logic

import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import org.lichen.FrameSender
import org.lichen.LinkException
import org.lichen.Links
import org.lichen.NativeLink
import org.lichen.SendOutcome

/**
 * Phone to phone, the central side: connects to another phone's GATT server (found by a scan
 * for the tinySSB service) over the same [GattPort] as the dongle, and attaches a native link
 * whose frames are RX writes with response; TX notifications go to the link. One operation
 * at a time per connection, as on the dongle.
 */
class PhoneCentral(private val links: Links, private val port: GattPort) {
    private class Peer(val conn: GattConnection) {
        val op = Any()
        @Volatile var link: NativeLink? = null
    }

    private val peers = ConcurrentHashMap<String, Peer>()

    fun connected(): Int = peers.values.count { it.link?.isUp() == true }

    /** Connects to [id] and attaches its link; null when up, else why not. */
    fun connect(id: String): String? {
        disconnect(id, "connecting again")
        var peer: Peer? = null
        val events = object : GattEvents {
            override fun notified(char: UUID, value: ByteArray) {
                if (char != TinySsb.TX) return
                val link = peer?.link ?: return
                try {
                    link.frameIn(value)
                } catch (e: LinkException) {
                    disconnect(id, "the link is down")
                }
            }

            override fun disconnected(reason: String) {
                val p = peer ?: return
                peers.remove(id, p)
                p.link?.linkDown(reason)
            }
        }
        val conn = try {
            port.connect(id, events)
        } catch (e: Exception) {
            return e.forPerson("connecting failed")
        }
        val p = Peer(conn)
        peer = p
        try {
            val mtu = synchronized(p.op) { conn.requestMtu(TinySsb.WANT_MTU) }
            val chars = synchronized(p.op) { conn.discover() }[TinySsb.SERVICE]
            if (chars == null || (chars[TinySsb.RX] ?: 0) and TinySsb.PROP_WRITE == 0 ||
                (chars[TinySsb.TX] ?: 0) and TinySsb.PROP_NOTIFY == 0
            ) {
                conn.close()
                return "not a tinySSB phone (service or characteristics missing)"
            }
            val sender = object : FrameSender {
                override fun send(frame: ByteArray): SendOutcome {
                    val code = try {
                        synchronized(p.op) { conn.write(TinySsb.RX, frame) }
                    } catch (e: Exception) {
                        return SendOutcome.Refused("write failed: ${e.message}")
                    }
                    return if (code == 0) SendOutcome.Sent else SendOutcome.Refused("ATT error $code")
                }
            }
            // Subscribe first: the peripheral starts its side of the link on the subscription,
            // so a write before it would be refused. What it notifies before the link is
            // attached here is dropped (tinySSB asks again).
            if (!synchronized(p.op) { conn.subscribe(TinySsb.TX) }) {
                conn.close()
                return "the phone refused notifications"
            }
            p.link = links.attachNativeLink(id, mtu.coerceAtLeast(0).toUInt(), sender)
            peers[id] = p
            return null
        } catch (e: Exception) {
            p.link?.linkDown("setup failed")
            peers.remove(id, p)
            try {
                conn.close()
            } catch (_: Exception) {
            }
            return e.forPerson("setting up the link failed")
        }
    }

    fun disconnect(id: String, reason: String) {
        val p = peers.remove(id) ?: return
        p.link?.linkDown(reason)
        try {
            p.conn.close()
        } catch (_: Exception) {
        }
    }

    fun allDown(reason: String) {
        for (id in peers.keys.toList()) disconnect(id, reason)
    }
}
