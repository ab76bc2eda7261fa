package org.lichen.app.logic

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.lichen.ChatKind

/** A phone as onboarding sees it: what is granted, Bluetooth, battery. */
class FakePlatform(override val apiLevel: Int) : OnboardingPlatform {
    val grantedSet = mutableSetOf<Permission>()
    var bluetooth = false
    var battery = false
    override fun granted(p: Permission) = p in grantedSet
    override fun bluetoothOn() = bluetooth
    override fun ignoringBatteryOptimisations() = battery
}

class OnboardingTest {
    @Test
    fun fromNothingToTheChatList() = runBlocking {
        val dir = tempDir("onboard")
        val phone = FakePlatform(apiLevel = 34)
        val ob = Onboarding(phone, LichenRoots(dir.absolutePath))
        val seen = mutableListOf<String>()
        fun note() { seen += ob.step.value.let { it::class.simpleName + ((it as? OnboardingStep.ExplainPermission)?.let { e -> ":" + e.permission } ?: "") } }

        ob.start(); note()
        assertTrue(ob.step.value is OnboardingStep.ChooseIdentity)
        ob.create(); note()
        assertTrue(ob.step.value is OnboardingStep.DisplayName)
        ob.setName("   "); note()
        assertEquals("a name of 1 to 40 characters", (ob.step.value as OnboardingStep.DisplayName).error)
        ob.setName("Ada"); note()
        // Each Bluetooth permission is explained before the OS asks; one is refused once.
        for (p in listOf(Permission.BLUETOOTH_SCAN, Permission.BLUETOOTH_CONNECT, Permission.BLUETOOTH_ADVERTISE)) {
            assertEquals(OnboardingStep.ExplainPermission(p), ob.step.value)
            if (p == Permission.BLUETOOTH_ADVERTISE) {
                ob.permissionResult(p, false); note()
                assertEquals(OnboardingStep.ExplainPermission(p, denied = true), ob.step.value)
                ob.skip(); note()
            } else {
                phone.grantedSet += p
                ob.permissionResult(p, true); note()
            }
        }
        assertEquals(OnboardingStep.TurnOnBluetooth, ob.step.value)
        phone.bluetooth = true
        ob.returned(); note()
        assertEquals(OnboardingStep.BatteryOptimisation, ob.step.value)
        ob.skip(); note()
        assertEquals(OnboardingStep.ExplainPermission(Permission.NOTIFICATIONS), ob.step.value)
        phone.grantedSet += Permission.NOTIFICATIONS
        ob.permissionResult(Permission.NOTIFICATIONS, true); note()
        val done = ob.step.value as OnboardingStep.Done
        assertEquals(
            listOf(
                "ChooseIdentity", "DisplayName", "DisplayName", "ExplainPermission:BLUETOOTH_SCAN",
                "ExplainPermission:BLUETOOTH_CONNECT", "ExplainPermission:BLUETOOTH_ADVERTISE",
                "ExplainPermission:BLUETOOTH_ADVERTISE", "TurnOnBluetooth", "BatteryOptimisation",
                "ExplainPermission:NOTIFICATIONS", "Done",
            ),
            seen,
        )
        val root = done.root
        assertEquals("Ada", root.settings().get().displayName)
        // The chat list comes up with the public channel and notes to self.
        val list = ChatListViewModel(root.chats())
        list.start()
        val rows = waitFor("the first list") { list.state.value.takeIf { it.loaded }?.rows }
        assertEquals(setOf(ChatKind.PUBLIC, ChatKind.NOTES), rows.map { it.kind }.toSet())
        assertTrue(rows.all { it.badge == null })
        list.close()
        val backup = root.backup().export()
        val me = root.feedId()
        root.shutdown()

        // Opened again with everything granted: straight to the chat list.
        phone.battery = true
        val again = Onboarding(phone, LichenRoots(dir.absolutePath), phoneToPhone = false)
        again.start()
        val reopened = (again.step.value as OnboardingStep.Done).root
        assertEquals(me, reopened.feedId())
        reopened.shutdown()

        // Restoring on another phone passes the fork warning and keeps the name.
        val other = tempDir("restore")
        val phone2 = FakePlatform(apiLevel = 30).apply { bluetooth = true; battery = true }
        val restore = Onboarding(phone2, LichenRoots(other.absolutePath))
        restore.start()
        restore.chooseRestore(backup)
        assertTrue(restore.step.value is OnboardingStep.ForkWarning)
        restore.acknowledgeForkAndRestore()
        // Android 11: scanning needs location, and notifications need no request.
        assertEquals(OnboardingStep.ExplainPermission(Permission.LOCATION), restore.step.value)
        phone2.grantedSet += Permission.LOCATION
        restore.permissionResult(Permission.LOCATION, true)
        val restored = (restore.step.value as OnboardingStep.Done).root
        assertEquals(me, restored.feedId())
        assertEquals("Ada", restored.settings().get().displayName)
        restored.shutdown()
    }

    @Test
    fun aBadBackupGoesBackToTheChoiceWithTheReason() = runBlocking {
        val ob = Onboarding(FakePlatform(34), LichenRoots(tempDir("bad").absolutePath))
        ob.start()
        ob.chooseRestore("not a backup")
        ob.acknowledgeForkAndRestore()
        val s = ob.step.value as OnboardingStep.ChooseIdentity
        assertTrue(s.error != null && s.error!!.isNotBlank())
    }

    @Test
    fun permissionsByApiLevel() {
        assertEquals(listOf(Permission.LOCATION), PermissionPlan.bluetooth(26, true))
        assertEquals(listOf(Permission.LOCATION), PermissionPlan.bluetooth(30, true))
        assertEquals(
            listOf(Permission.BLUETOOTH_SCAN, Permission.BLUETOOTH_CONNECT),
            PermissionPlan.bluetooth(31, false),
        )
        assertEquals(emptyList<Permission>(), PermissionPlan.notifications(32))
        assertEquals(listOf(Permission.NOTIFICATIONS), PermissionPlan.notifications(33))
    }
}
